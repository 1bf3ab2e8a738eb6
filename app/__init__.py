"""控辍保学 backend: keeps every child in school."""
