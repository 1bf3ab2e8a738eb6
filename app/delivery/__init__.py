"""Getting notices to people: worker, channels, templates, inbox, delivery config."""
