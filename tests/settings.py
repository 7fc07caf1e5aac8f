"""Settings for the test suite: the project's settings with test-friendly defaults."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("STATIC_MANIFEST", "0")  # plain static files: no collectstatic needed
os.environ.setdefault("SECURE_COOKIES", "0")  # the live server for browser tests speaks plain http
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # so does the test client

from planboard.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files straight from the finders (static/ and node_modules), as in development.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
