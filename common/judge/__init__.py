"""The judge: everything that scores a model or an edit, apart from the models themselves.

- ``classifier``: the attribute classifier (trained on the data's labels) whose readings
  score every edit, and ``augment``, the degradations it is trained to see through.
- ``metrics``: the numbers (success, leakage, Frechet distance in the classifier's features,
  MIG and DCI, a VAE's held-out error).
- ``scoreboard``: the common test every method takes (same faces, same strengths), and
  ``gan_scores`` for a generator's samples.
- ``targets``: the thresholds notebook 05 and the README judge the numbers by."""
