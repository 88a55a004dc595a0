# The gateway's everyday commands. Only Go is needed.

GO ?= go
BIN := bin/bot
# PostgreSQL for the storage suites; CI and most developer machines have
# one on localhost. Without it those suites skip and say so.
BOT_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: run build test bench lint clean

## run: build and start the gateway on SQLite in ./data, HTTP on 127.0.0.1:8080
run: build
	./$(BIN) serve

## build: compile the bot command into bin/
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./bot

## test: every test, on SQLite and on PostgreSQL (BOT_TEST_DATABASE_URL= make test
## runs without PostgreSQL; its suites then say that they were skipped)
test:
	BOT_TEST_DATABASE_URL='$(BOT_TEST_DATABASE_URL)' $(GO) test -race -count=1 -timeout 12m ./...

## bench: messages per second, latency and memory of the whole pipeline
bench:
	bash scripts/bench.sh

## lint: formatting, vet and staticcheck (see staticcheck.conf)
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

clean:
	rm -rf bin
