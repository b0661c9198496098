"""Text: corpora, tokenizers, token windows, next-token training and generation.

`text:PATH`, `textcsv:PATH` and the bundled `python-source` and
`python-modules` corpora are read into a `TextCorpus` (engine.text.corpus),
tokenized for the network that reads them (engine.text.network: the Input's
length is the window, the Embedding's size the vocabulary) and trained on
the one training path; a language model trains with `LanguageModelStep`
(engine.text.step) and writes with `Writer` (engine.text.generate).
"""
