// orderdesk.js: small progressive enhancements; every page works without it.
