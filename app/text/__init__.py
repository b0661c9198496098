"""The window's side of text: a language model's writing, live while it learns, and on request."""
