# Convenience wrappers; each target calls tasks.py, which needs only Python 3.11+.
.PHONY: open test rebuild bench lock
open:
	python3 tasks.py open
test:
	python3 tasks.py test
rebuild:
	python3 tasks.py rebuild
bench:
	python3 tasks.py bench
lock:
	python3 tasks.py lock
