"""Training and evaluation of the classifier's heads: the nested cross-validation protocol,
the data sets, the training runs and the measurements. Nothing here runs when a post is scored;
the runtime (``classifiers``) never imports it."""
