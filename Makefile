# The two commands of the README's quickstart. The logic lives in .ci/*.sh.
.PHONY: standalone test install

standalone: install
	.venv/bin/python manage.py standalone

test:
	bash .ci/test.sh

install:
	bash .ci/bootstrap.sh
