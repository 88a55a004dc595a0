package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// statements caches prepared statements by database and query text.
var statements sync.Map // stmtKey -> *sql.Stmt

type stmtKey struct {
	db    *bun.DB
	query string
}

// ScanOne runs a hot query as a prepared statement and scans its first row
// into dest the way bun does. bun writes arguments into the SQL text, so
// SQLite compiles every call anew; for the few queries that run once per
// message, that compile is most of their cost. Write the query with ?
// placeholders (they become $1, $2, ... on PostgreSQL) and pass plain
// values. db may be a database or a transaction of it (inside a
// transaction the query is not prepared, only bound). It returns
// sql.ErrNoRows when nothing matched.
func ScanOne(ctx context.Context, db bun.IDB, dest any, query string, args ...any) error {
	bdb := db.NewSelect().DB()

	var (
		rows *sql.Rows
		err  error
	)

	if tx, ok := db.(bun.Tx); ok {
		// A transaction may hold the pool's only connection (SQLite), so
		// nothing is prepared on the pool here; the driver still binds the
		// arguments.
		rows, err = tx.Tx.QueryContext(ctx, dialectQuery(bdb, query), args...)
	} else {
		var stmt *sql.Stmt

		if stmt, err = prepare(ctx, bdb, query); err != nil {
			return err
		}

		rows, err = stmt.QueryContext(ctx, args...)
	}

	if err != nil {
		return fmt.Errorf("run prepared query: %w", err)
	}
	defer rows.Close()

	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("run prepared query: %w", err)
		}

		return sql.ErrNoRows
	}

	return bdb.ScanRow(ctx, rows, dest)
}

// dialectQuery writes ? placeholders the way the database wants them.
func dialectQuery(db *bun.DB, query string) string {
	if db.Dialect().Name() == dialect.PG {
		return numberPlaceholders(query)
	}

	return query
}

func prepare(ctx context.Context, db *bun.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{db: db, query: query}
	if s, ok := statements.Load(key); ok {
		return s.(*sql.Stmt), nil
	}

	stmt, err := db.DB.PrepareContext(ctx, dialectQuery(db, query))
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}

	if prev, loaded := statements.LoadOrStore(key, stmt); loaded {
		_ = stmt.Close()
		return prev.(*sql.Stmt), nil
	}

	return stmt, nil
}

// numberPlaceholders turns ? into $1, $2, ... for PostgreSQL. The queries
// given to ScanOne hold no ? inside literals.
func numberPlaceholders(query string) string {
	var b strings.Builder

	n := 0
	for _, r := range query {
		if r != '?' {
			b.WriteRune(r)
			continue
		}

		n++
		b.WriteString("$" + strconv.Itoa(n))
	}

	return b.String()
}
