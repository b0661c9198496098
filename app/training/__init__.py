"""Click-to-train: the controller (toolbar, status, lifecycle), the worker thread and its buffer."""
