"""One module per chapter, each built on helpers.session (the target and the lab's controls it shares).

A chapter module holds its parameters (a TargetParameters subclass), its step table and a class whose
methods are the notebook's cells. Chapter 2 is `kubernetes_auth`; chapter 3 is the package `syncing` (its
module docstring lists its parts); chapter 4 goes beside them.

The rules a chapter follows, so that any cell can be re-run alone after Run All (cleanup included):
- what a cell needs comes from typed attributes or from the live target, never from a string-keyed dict;
- what a learner's cell did not create is never created behind their back: a missing object raises
  errors.NotReady naming the cell that creates it (one line in the notebook, see display.install_error_handler);
- anything cheap and harmless that ESO would do anyway (mint a token, POST /auth) is simply done again.
"""
