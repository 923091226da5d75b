"""Board boot script: nothing to prepare yet (OTA slot checks come in a later issue)."""
