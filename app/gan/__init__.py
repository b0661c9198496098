"""GANs in the window: the training worker, the live page and the kept weights."""
