// Package migrations holds the database schema as numbered SQL files, one
// folder per dialect, embedded in the binary. Each file runs in a
// transaction (the .tx. in its name), so a failing migration leaves nothing
// behind. Both folders describe the same tables; they differ in column
// types and in full-text search (an FTS5 table with triggers on SQLite, a
// generated tsvector column on PostgreSQL).
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// SQLite returns the migrations for SQLite.
func SQLite() fs.FS {
	return sub("sqlite")
}

// Postgres returns the migrations for PostgreSQL.
func Postgres() fs.FS {
	return sub("postgres")
}

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic("migrations: embedded folder missing: " + dir)
	}

	return f
}
