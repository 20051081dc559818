"""Django's real password hasher, counting how often it checks a password (a test aid)."""

import threading

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class CountingPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    checks = 0
    _lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with self._lock:
            type(self).checks += 1
        return super().verify(password, encoded)
