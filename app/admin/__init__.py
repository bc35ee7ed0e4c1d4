"""Administration pages: users, tokens, categories, themes, the audit log (:mod:`.views`)."""
