import nbformat as nbf
cells = []
def md(text): cells.append(nbf.v4.new_markdown_cell(text.strip("\n")))
def code(text, *tags):
    c = nbf.v4.new_code_cell(text.strip("\n"))
    if tags: c.metadata["tags"] = list(tags)
    cells.append(c)
IGN = "nbval-ignore-output"

md("""
# Chapter 3 — Syncing secrets with ESO: refresh, shape, share and push, on the real controller

Chapter 2 ended with one ExternalSecret synced once. A team lives with ESO for months: values rotate in
Akeyless, applications want several keys, a typed Secret or a connection string, several namespaces share one
store, and sometimes a value made in the cluster has to go *to* Akeyless. This chapter runs each of those
against the **real External Secrets Operator (v0.16.2)**, watching what it writes and what it reports.

**What you will do**

- follow one reconcile of an ExternalSecret call by call (token, `/auth`, describe, read, write, requeue), each
  step lit on the diagram, evidenced by the servers' own audit logs;
- rotate a value in Akeyless and measure how long the Secret takes to follow, then force a sync at once;
- pin a `version`, split a JSON secret with `property`, take every field with `extract`, find items by path and
  by tag (and see what `find` needs from the role);
- shape the Secret with `target.template`, and see what `creationPolicy` and `deletionPolicy` each do to it;
- share one ClusterSecretStore between namespaces, push a Kubernetes Secret to Akeyless with a PushSecret, and
  read ESO's conditions, events and metrics;
- solve four exercises yourself: a `check` cell reads the live cluster and Akeyless and answers with a hint.

**What you need:** the real stack: `make real` once (it builds kube-apiserver, etcd, the controller manager and
ESO from Go modules), then `python -m helpers lab up --kube apiserver` (or `WORKSHOP_LAB_KUBE=apiserver`).
On the emulator there is no controller, and the chapter says so in its first cell. Chapter 2's identity (auth
method, gateway config, reviewer, role) is used as it is; if chapter 2 has not run on this lab, the chapter
sets it up with chapter 2's own cells and says so.

**Exercises and Run All:** with `apply_solutions = True` (the default, so headless runs test everything) each
exercise applies its solution. Set it to `False` to have your own answer applied; a wrong answer only affects
the exercise's own objects, never the cells after it.
""")
code("""
from helpers import display
from helpers.chapters import syncing
display.install_error_handler()   # expected mistakes: one short message naming the fix, no traceback
""")
md("The parameters (papermill can override any of them). They use chapter 2's names, so one parameter set drives both chapters.")
code('''
target = "lab"                          # "lab" (embedded) or "kubeconfig" (your current context, with ESO installed)
kube = ""                               # lab: "" = $WORKSHOP_LAB_KUBE, "apiserver" = the real stack, "emulator"
kubeconfig = ""                         # target kubeconfig: the file (empty: $KUBECONFIG or ~/.kube/config)
namespace = "akeyless-auth"             # where the ExternalSecrets live (chapter 2's)
service_account = "akeyless-auth-sa"    # the identity ESO presents to Akeyless (chapter 2's)
audience = "akeyless"                   # the audience the auth method expects
auth_method = "/workshop/aks-eso-k8s"   # chapter 2's Kubernetes auth method
k8s_conf_name = "aks-eso-conf"          # chapter 2's gateway config (ESO's k8sConfName)
role = "/workshop/eso-app-reader"       # chapter 2's access role
secret_path = "/demo/app/db-password"   # the secret that rotates; the chapter's items sit beside it
secret_rule = "/demo/app/*"             # what the role grants (chapter 2's)
other_secret_path = "/demo/other/api-token"  # a secret outside the rule (chapter 2's)
k8s_secret = "app-db-secret"            # the Secret ESO writes; the chapter's other objects start with it
other_namespace = "other-team"          # a namespace the shared store does not admit
refresh_interval = "5s"                 # ESO's refreshInterval: small, so you can watch it work
secret_value = ""                       # empty: a random value on every run
apply_solutions = True                  # exercises apply their solution (False: your answer)
reveal = False                          # True shows secret values (never commit that)
''', "parameters")
md("""
Check the parameters and connect. A parameter that cannot work stops here with one line naming it; a target
without a real ESO controller stops here too, saying how to start one.
""")
code("""
chapter = syncing.Chapter.from_notebook(globals())
chapter.target()
""", IGN)
md("""
The identity ESO presents is chapter 2's: the Kubernetes auth method, the gateway's Kubernetes config with its
token reviewer, the access role with its sub-claims, the ServiceAccount, and the SecretStore pointing at them.
This cell checks each of them live, sets up what is missing through chapter 2's own helpers, and waits for the
controller to validate the store.
""")
code("chapter.identity()")

md("""
## 1. One reconcile, call by call

An ExternalSecret is a standing order: *keep this Secret equal to these Akeyless items*. ESO fulfils it in a
loop. Each pass mints a fresh ServiceAccount token (ESO caches nothing), logs in to Akeyless with it, asks what
each item is, reads it, writes the Secret, records the sync on the ExternalSecret's status, and schedules the
next pass after `refreshInterval`.
""")
code("chapter.diagram()", IGN)
md("""
Apply the chapter's ExternalSecret (chapter 2's secret, `refreshInterval` from the parameters) and wait for the
controller's verdict. The calls it made are read back from the API server's and the gateway's audit logs.
""")
code("chapter.sync()", IGN)
md("**Step 1.** ESO asks the API server for a token of the ServiceAccount named in `serviceAccountRef`.")
code("chapter.step(1)", IGN)
md("**Step 2.** It sends the token to the gateway's `/auth`; the gateway checks it with a TokenReview and answers with a `t-` token.")
code("chapter.step(2)", IGN)
md("**Step 3.** With the `t-` token ESO describes the item: its type decides which read call comes next.")
code("chapter.step(3)", IGN)
md("**Step 4.** A static secret is read with `get-secret-value`, at the version asked for (0 means the latest).")
code("chapter.step(4)", IGN)
md("**Step 5.** ESO writes the Secret: the data, a hash of it in an annotation, and an owner reference to the ExternalSecret.")
code("chapter.step(5)", IGN)
md("""
**Step 6.** Finally it records the sync on the ExternalSecret's status: `refreshTime` (when), 
`syncedResourceVersion` (which version of the ExternalSecret, so an edit triggers a new sync) and the `Ready`
condition. The next pass comes `refreshInterval` later.
""")
code("chapter.step(6)", IGN)
md("The same six steps, to click through (headless, the list below the widget shows them all):")
code("chapter.step_through()", IGN)

md("""
## 2. Refresh and rotation

Rotate the value in Akeyless (a new version of the item) and measure how long the Secret takes to follow. The
delay is whatever was left of the current `refreshInterval`, plus one reconcile: never more than the interval.
""")
code("chapter.rotate()", IGN)
md("""
When you cannot wait for the interval (a leaked credential, a deploy that needs the new value now), change the
`force-sync` annotation: ESO reconciles at once.
""")
code("chapter.force_sync()", IGN)
md("""
**What the application sees.** ESO keeps the *Secret* current; how fast a *process* sees the change depends on
how it reads the Secret. This lab has no kubelet, so the Pod below is admitted but never runs: the cell shows the
spec and says how each form behaves on a real node.
""")
code("chapter.workload()", IGN)

md("""
## 3. Versions and properties

Akeyless keeps versions of a static secret. Seed a JSON secret with two versions (host `db-v1`, then `db-v2`):
""")
code("chapter.seed_json()")
md("""
One ExternalSecret, three keys: `host-pinned` pins `version: "1"`, `host-latest` leaves it out (the latest),
and `password` takes one field of the JSON with `property`. Host names are not secret and are shown; the
password is masked.
""")
code("chapter.versions()", IGN)
md("A version that does not exist: ESO reports the gateway's refusal, and the Secret keeps its last good data.")
code("chapter.missing_version()", IGN)

md("""
## 4. Many keys at once: `extract` and `find`

`dataFrom.extract` turns every field of a JSON secret into a key of its own:
""")
code("chapter.extract()", IGN)
md("""
`dataFrom.find` selects items instead of naming them: by path (with a name regexp) or by tags. Item names are
full paths such as `/demo/app-catalog/alpha`, which are not valid Secret keys: `rewrite` cuts them down. Seed a
catalog folder, outside the role's rule on purpose:
""")
code("chapter.seed_catalog()")
md("""
Find by path while the role has no rule on the catalog. Notice that this is **not an error**: Akeyless lists only
what the caller may list, so ESO finds nothing, syncs nothing and stays `Ready`, and the Secret is never created.
""")
code('chapter.find("path")', IGN)
md("`find` lists the folder (`list`) and reads each item (`read`); Akeyless counts `list` as part of every other capability. Grant both:")
code("chapter.grant_find()", IGN)
md("Now by path, then by tags (ESO matches the tag *values* and ignores the keys of `find.tags`):")
code('chapter.find("path")', IGN)
code('chapter.find("tag")', IGN)

md("""
### Exercise 1 — a second key

Write the `data` of an ExternalSecret so that its Secret holds `password` **and** `username`, both from the
JSON secret seeded in section 3. Edit the YAML below (`remoteRef.key` is the item's path, `property` a field).
""")
code('''
my_data = """
- secretKey: password
  remoteRef: {key: /demo/app/db-config, property: password}
"""
chapter.exercise(1).attempt(my_data)
''', IGN)
code("chapter.exercise(1).check()", IGN)
code("chapter.exercise(1).solution()")

md("""
### Exercise 2 — a rule so that `find` works

The next cell makes a folder `<folder>-shelf` with two items and no rule. Write the role rule (a path and
capabilities) that lets an ExternalSecret with `find` on that folder get both items.
""")
code("chapter.exercises.prepare_shelf()")
code('''
my_rule = """
path: /demo/app-shelf
capabilities: [list]
"""
chapter.exercise(2).attempt(my_rule)
''', IGN)
code("chapter.exercise(2).check()", IGN)
code("chapter.exercise(2).solution()")

md("""
## 5. Shaping the Secret

`target.template` builds the Secret's data from the fetched values with Go templates. A connection string
from four fields of the JSON secret (its value is masked below: it contains the password):
""")
code("chapter.template()", IGN)
md("A typed Secret: a `kubernetes.io/dockerconfigjson` for an image registry, the auth field base64-encoded by the template:")
code("chapter.docker_config()", IGN)
md("""
**Who owns the Secret.** `creationPolicy: Owner` (the default) creates the Secret with an owner reference, so
Kubernetes' garbage collector deletes it with its ExternalSecret; `Orphan` creates it without one; `Merge` only
adds keys to a Secret that already exists (here one with a key `kept`, written by another tool).
""")
code("chapter.creation_policies()", IGN)
md("""
**When the provider has nothing.** `deletionPolicy` says what to do with the Secret when the items it came from
are gone: `Retain` keeps it, `Delete` deletes it, `Merge` removes only the keys ESO wrote. Each row below finds
one item by path, deletes the item in Akeyless, and forces a sync.
""")
code("chapter.deletion_policies()", IGN)

md("""
### Exercise 3 — a template

Write the template of key `url` so that it reads `postgres://USER:PASSWORD@HOST:PORT/app` from the JSON secret's
fields (`.username`, `.password`, `.host`, `.port`).
""")
code('''
my_template = "postgres://{{ .username }}@{{ .host }}/app"
chapter.exercise(3).attempt(my_template)
''', IGN)
code("chapter.exercise(3).check()", IGN)
code("chapter.exercise(3).solution()")

md("""
## 6. Sharing a store between namespaces

A ClusterSecretStore serves every namespace that its `conditions` admit. With Kubernetes auth it must also say
in which namespace its `serviceAccountRef` lives: otherwise ESO looks for the ServiceAccount in each
ExternalSecret's own namespace. Here the store admits only the chapter's namespace:
""")
code("chapter.share_store()", IGN)
md("An ExternalSecret in a namespace the conditions do not list is refused by ESO itself, before any call to Akeyless:")
code("chapter.outside_namespace()", IGN)

md("""
### Exercise 4 — one more namespace

List the namespaces a ClusterSecretStore's condition admits, so that the team-b namespace
(`<namespace>-team-b`) may use it and the chapter's namespace keeps its access.
""")
code('''
my_namespaces = """
- akeyless-auth
"""
chapter.exercise(4).attempt(my_namespaces)
''', IGN)
code("chapter.exercise(4).check()", IGN)
code("chapter.exercise(4).solution()")

md("""
## 7. The other direction: PushSecret

A PushSecret copies a Kubernetes Secret **to** Akeyless (a value generated in the cluster, a certificate issued
there). ESO logs in with the same identity, so the role needs `create` and `update` on the target path. First
without such a rule:
""")
code("chapter.push(grant=False)", IGN)
md("""
Then with a rule granting `create`, `update` (and `read`, to compare, and `delete`, for the cleanup below) on
the push folder. Note the store's `status.capabilities`: ESO v0.16.2's Akeyless provider declares itself
`ReadOnly`, yet this version's PushSecret controller does not consult that field and pushes anyway. (Later ESO
versions declare `ReadWrite`.) The item it creates holds the Secret's keys as a JSON object and carries ESO's
tag `k8s-external-secrets`.
""")
code("chapter.push(grant=True)", IGN)
md("""
With `deletionPolicy: Delete`, deleting the PushSecret deletes what it pushed (only items carrying ESO's tag, so
it never removes an item it did not create); `Retain`, the default, leaves it.
""")
code("chapter.unpush()", IGN)

md("""
## 8. Watching ESO work

ESO reports in three places: the `Ready` condition on each object (seen above), Kubernetes events (one per
sync, a Warning with the provider's error on each failure), and Prometheus metrics on its metrics port.
""")
code("chapter.events()", IGN)
code("chapter.metrics()", IGN)

md("""
## Cleanup

Deletes every ESO object this chapter created (their owned Secrets follow); chapter 2's identity and store stay.
""")
code("chapter.cleanup()", IGN)
md("""
---
*The outputs above come from a headless run on the lab's real stack (etcd, kube-apiserver,
kube-controller-manager and the ESO v0.16.2 controller built from Go modules, with the lab's Akeyless gateway).*
""")

nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                                              "language": "python", "name": "python3"},
                                               "language_info": {"name": "python"}})
nbf.write(nb, "/work/wt/ch3/notebooks/03_syncing_with_eso.ipynb")
print(len(cells))
