"""Students and the imports that build a roster (学籍 export, staff sheet, onboarding)."""
