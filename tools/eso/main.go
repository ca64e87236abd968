// Command eso-controller is the upstream External Secrets Operator controller,
// unchanged: the lab runs it out of cluster beside its kube-apiserver.
package main

import "github.com/external-secrets/external-secrets/cmd/controller"

func main() { controller.Execute() }
