package memory_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/core"
	"github.com/switchboardhq/switchboard/core/memory"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/core/store/storetest"
)

const agent = "agent-1"

var (
	alice = memory.Owner{Channel: core.ChannelTelegram, UserID: "alice"}
	bob   = memory.Owner{Channel: core.ChannelTelegram, UserID: "bob"}
	// aliceOnDiscord has Alice's user id on another channel: another person.
	aliceOnDiscord = memory.Owner{Channel: core.ChannelDiscord, UserID: "alice"}
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func TestSearchFindsByWordAndPrefix(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopeShared, "Alice drinks her coffee black")
		save(t, db, alice, memory.ScopeShared, "The office plant is called Gerald")
		save(t, db, alice, memory.ScopeShared, "Bob's birthday is on the 4th of May")
		save(t, db, alice, memory.ScopeShared, "Bob prefers tea to COFFEE")

		tests := []struct {
			name  string
			query string
			want  []string
		}{
			{"word", "gerald", []string{"The office plant is called Gerald"}},
			{"word in any case", "GERALD", []string{"The office plant is called Gerald"}},
			{"prefix", "birth", []string{"Bob's birthday is on the 4th of May"}},
			{"every word must match", "coffee black", []string{"Alice drinks her coffee black"}},
			{"word in two memories", "coffee", []string{
				"Alice drinks her coffee black", "Bob prefers tea to COFFEE",
			}},
			{"no match", "giraffe", nil},
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				got := contents(search(t, db, alice, tt.query, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Search(%q) = %q, want %q", tt.query, got, tt.want)
				}
			})
		}
	})
}

func TestSearchRanksBetterMatchFirst(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)

		// The better match is saved first, so that newest-first order
		// alone would put it last.
		best := "Espresso: Bob likes espresso, a double espresso after lunch"
		save(t, db, bob, memory.ScopeShared, best)
		save(t, db, bob, memory.ScopeShared,
			"Bob went to Italy once, walked a lot, saw many churches and museums, "+
				"ate pasta every day and tried an espresso in Rome")

		got := contents(search(t, db, bob, "espresso", 0))
		if len(got) != 2 || got[0] != best {
			t.Fatalf("Search(espresso) = %q, want %q first of two", got, best)
		}
	})
}

func TestSearchKeepsPrivateMemoriesPrivate(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopePrivate, "Alice secret: the locker code is 4711")
		save(t, db, alice, memory.ScopeShared, "Alice shared: the wifi is called locker")
		save(t, db, bob, memory.ScopePrivate, "Bob secret: his locker is number 12")

		if _, err := memory.Save(context.Background(), db, "agent-2", alice,
			memory.ScopeShared, "Other agent: locker room", t0); err != nil {
			t.Fatalf("Save for another agent: %v", err)
		}

		tests := []struct {
			name   string
			viewer memory.Owner
			query  string
			want   []string
		}{
			{"owner sees own private and shared", alice, "locker", []string{
				"Alice secret: the locker code is 4711",
				"Alice shared: the wifi is called locker",
			}},
			{"other person sees shared and own", bob, "locker", []string{
				"Alice shared: the wifi is called locker",
				"Bob secret: his locker is number 12",
			}},
			{"same user id on another channel", aliceOnDiscord, "locker", []string{
				"Alice shared: the wifi is called locker",
			}},
			{"private word not leaked", bob, "4711", nil},
			{"list without query", bob, "", []string{
				"Alice shared: the wifi is called locker",
				"Bob secret: his locker is number 12",
			}},
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				got := contents(search(t, db, tt.viewer, tt.query, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Search(%q) as %s = %q, want %q",
						tt.query, tt.viewer.UserID, got, tt.want)
				}
			})
		}
	})
}

func TestListNewestFirst(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)

		for i, text := range []string{"first", "second", "third"} {
			_, err := memory.Save(ctx, db, agent, alice, memory.ScopeShared, text,
				t0.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatalf("Save: %v", err)
			}
		}

		got, err := memory.List(ctx, db, agent, bob, 2)
		if err != nil {
			t.Fatalf("List: %v", err)
		}

		if want := []string{"third", "second"}; !slices.Equal(contents(got), want) {
			t.Fatalf("List = %q, want %q", contents(got), want)
		}
	})
}

func TestSearchTreatsSyntaxAsText(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopeShared, "Alice likes coffee")
		save(t, db, alice, memory.ScopeShared, "Bob likes tea")

		coffee := []string{"Alice likes coffee"}

		tests := []struct {
			query string
			want  []string
		}{
			{`"coffee`, coffee},
			{`coffee"`, coffee},
			{`'coffee'`, coffee},
			{`coffee*`, coffee},
			{`*coffee`, coffee},
			{`-coffee`, coffee},
			{`(coffee`, coffee},
			{`coffee)`, coffee},
			{`coff:*`, coffee},
			{`!coffee`, coffee},
			{`coffee & | <->`, coffee},
			{`content:coffee`, nil},
			{`coffee OR tea`, nil},
			{`coffee AND tea`, nil},
			{`coffee NOT tea`, nil},
			{`NEAR(coffee tea)`, nil},
			{`likes -tea`, []string{"Bob likes tea"}},
			{`^tea`, []string{"Bob likes tea"}},
			{`tea}{`, []string{"Bob likes tea"}},
			{`"" '' ()`, []string{"Alice likes coffee", "Bob likes tea"}},
		}

		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				t.Parallel()

				got := contents(search(t, db, alice, tt.query, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Search(%q) = %q, want %q", tt.query, got, tt.want)
				}
			})
		}
	})
}

func TestRelevantMatchesAnyWord(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopeShared, "Alice has a dog named Rex")
		save(t, db, alice, memory.ScopeShared, "The office plant is called Gerald")
		save(t, db, alice, memory.ScopeShared, "Bob prefers tea to coffee")

		tests := []struct {
			name string
			text string
			want []string
		}{
			{"one word of many", "what is my dog called?", []string{
				"Alice has a dog named Rex", "The office plant is called Gerald",
			}},
			{"one word in any case", "Is COFFEE ready?", []string{"Bob prefers tea to coffee"}},
			{"prefix", "Is Geral there?", []string{"The office plant is called Gerald"}},
			{"repeated word", "tea tea tea", []string{"Bob prefers tea to coffee"}},
			{"no word matches", "giraffes sleep standing", nil},
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				got := contents(relevant(t, db, alice, tt.text, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Relevant(%q) = %q, want %q", tt.text, got, tt.want)
				}
			})
		}
	})
}

func TestRelevantRanksBetterMatchFirst(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)

		// The better match is saved first and oldest, so that newest-first
		// order alone would put it last.
		best := "Rex loves long walks in the park"
		saveAt(t, db, best, t0)
		saveAt(t, db, "Rex hates baths", t0.Add(time.Minute))
		saveAt(t, db, "Rex chews socks", t0.Add(2*time.Minute))

		for i := range 5 {
			saveAt(t, db, "Gerald needs water", t0.Add(time.Duration(i+3)*time.Minute))
		}

		got := contents(relevant(t, db, bob, "Does Rex enjoy walks in the park?", 0))
		want := []string{best, "Rex chews socks", "Rex hates baths"}

		if !slices.Equal(got, want) {
			t.Fatalf("Relevant = %q, want %q: best first, then equal matches newest first",
				got, want)
		}

		got = contents(relevant(t, db, bob, "rex", 1))
		if len(got) != 1 {
			t.Fatalf("Relevant(rex, limit 1) = %q, want one memory", got)
		}

		if got := relevant(t, db, bob, "gerald", 0); len(got) != memory.DefaultRelevantLimit {
			t.Fatalf("Relevant(gerald, limit 0) returned %d memories, want %d",
				len(got), memory.DefaultRelevantLimit)
		}

		if _, err := memory.Relevant(ctx, db, agent, bob, "gerald", -1); err != nil {
			t.Fatalf("Relevant with a negative limit: %v", err)
		}
	})
}

func TestRelevantKeepsPrivateMemoriesPrivate(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopePrivate, "Alice secret: the locker code is 4711")
		save(t, db, alice, memory.ScopeShared, "Alice shared: the wifi is called locker")
		save(t, db, bob, memory.ScopePrivate, "Bob secret: his locker is number 12")

		if _, err := memory.Save(context.Background(), db, "agent-2", alice,
			memory.ScopeShared, "Other agent: locker room", t0); err != nil {
			t.Fatalf("Save for another agent: %v", err)
		}

		tests := []struct {
			name   string
			viewer memory.Owner
			text   string
			want   []string
		}{
			{"owner sees own private and shared", alice, "where is my locker?", []string{
				"Alice secret: the locker code is 4711",
				"Alice shared: the wifi is called locker",
			}},
			{"other person sees shared and own", bob, "where is my locker?", []string{
				"Alice shared: the wifi is called locker",
				"Bob secret: his locker is number 12",
			}},
			{"same user id on another channel", aliceOnDiscord, "locker", []string{
				"Alice shared: the wifi is called locker",
			}},
			{"private word not leaked", bob, "is 4711 a code?", nil},
			{"private words not leaked", bob, "secret code 4711", []string{
				"Bob secret: his locker is number 12",
			}},
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				got := contents(relevant(t, db, tt.viewer, tt.text, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Relevant(%q) as %s = %q, want %q",
						tt.text, tt.viewer.UserID, got, tt.want)
				}
			})
		}
	})
}

func TestRelevantIgnoresStopAndShortWords(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)

		// Every word of these texts is in a memory, so only ignoring them
		// keeps Relevant from finding something.
		save(t, db, alice, memory.ScopeShared,
			"What about you and me? Where, when, why, who, how: that is this")
		save(t, db, alice, memory.ScopeShared,
			"Please have your tea with the cake from Al, I am ok, we can go, as it was, "+
				"for we are on it")

		tests := []string{
			"",
			"   ",
			"?!",
			"what is my name?",
			"Where are you?",
			"PLEASE, can you help me with that?",
			"I am ok, go on",
			"a b c é ü 12",
			"Who was that, and why, and how, and when, and from where?",
			"Is this about you?",
		}

		for _, text := range tests {
			t.Run(text, func(t *testing.T) {
				t.Parallel()

				if got := relevant(t, db, alice, text, 0); got != nil {
					t.Fatalf("Relevant(%q) = %q, want nil", text, contents(got))
				}
			})
		}

		// A long message whose first words are all ignored still finds the
		// word after them.
		text := strings.Repeat("what is this and that? ", 10) + "cake"
		if got := relevant(t, db, alice, text, 0); len(got) != 1 {
			t.Fatalf("Relevant(%q) = %q, want the cake", text, contents(got))
		}
	})
}

func TestRelevantTreatsSyntaxAsText(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)
		save(t, db, alice, memory.ScopeShared, "Alice likes coffee")
		save(t, db, alice, memory.ScopeShared, "Bob likes tea")

		coffee := []string{"Alice likes coffee"}
		tea := []string{"Bob likes tea"}
		both := []string{"Alice likes coffee", "Bob likes tea"}

		tests := []struct {
			text string
			want []string
		}{
			{`"coffee`, coffee},
			{`coffee"`, coffee},
			{`'coffee'`, coffee},
			{`coffee*`, coffee},
			{`*coffee`, coffee},
			{`-coffee`, coffee},
			{`(coffee`, coffee},
			{`coffee)`, coffee},
			{`coff:*`, coffee},
			{`!coffee`, coffee},
			{`coffee & | <->`, coffee},
			{`content:coffee`, coffee},
			{`coffee OR tea`, both},
			{`coffee AND tea`, both},
			{`coffee NOT tea`, both},
			{`NEAR(coffee tea)`, both},
			{`^tea`, tea},
			{`tea}{`, tea},
			{`'tea' || "tea"`, tea},
			{`"" '' () * : & | !`, nil},
		}

		for _, tt := range tests {
			t.Run(tt.text, func(t *testing.T) {
				t.Parallel()

				got := contents(relevant(t, db, alice, tt.text, 0))
				slices.Sort(got)

				if !slices.Equal(got, tt.want) {
					t.Fatalf("Relevant(%q) = %q, want %q", tt.text, got, tt.want)
				}
			})
		}
	})
}

func TestForget(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)
		private := save(t, db, alice, memory.ScopePrivate, "Alice private banana")
		shared := save(t, db, alice, memory.ScopeShared, "Alice shared banana")
		bobs := save(t, db, bob, memory.ScopeShared, "Bob shared banana")

		tests := []struct {
			name   string
			viewer memory.Owner
			id     int64
			agent  string
			want   error
		}{
			{"other person's private", bob, private.ID, agent, memory.ErrNotFound},
			{"other person's shared", bob, shared.ID, agent, memory.ErrNotFound},
			{"same user id on another channel", aliceOnDiscord, private.ID, agent,
				memory.ErrNotFound},
			{"another agent's", alice, private.ID, "agent-2", memory.ErrNotFound},
			{"missing id", alice, bobs.ID + 100, agent, memory.ErrNotFound},
			{"own private", alice, private.ID, agent, nil},
			{"own shared", alice, shared.ID, agent, nil},
			{"already forgotten", alice, private.ID, agent, memory.ErrNotFound},
		}

		// Sequential: the cases build on each other.
		for _, tt := range tests {
			err := memory.Forget(ctx, db, tt.agent, tt.viewer, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("%s: Forget = %v, want %v", tt.name, err, tt.want)
			}
		}

		if err := memory.Forget(ctx, db, agent, bob, private.ID); !errors.Is(err,
			store.ErrNotFound) {
			t.Fatalf("Forget of a missing memory = %v, want it to match store.ErrNotFound", err)
		}

		got := contents(search(t, db, alice, "banana", 0))
		if want := []string{"Bob shared banana"}; !slices.Equal(got, want) {
			t.Fatalf("Search(banana) after Forget = %q, want %q", got, want)
		}
	})
}

func TestIndexFollowsUpdates(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)
		m := save(t, db, alice, memory.ScopeShared, "The meeting is on Monday")

		_, err := db.NewUpdate().Model(m).Set("content = ?", "The meeting is on Friday").
			WherePK().Exec(ctx)
		if err != nil {
			t.Fatalf("update content: %v", err)
		}

		if got := search(t, db, alice, "monday", 0); len(got) != 0 {
			t.Fatalf("Search(monday) after the update = %q, want nothing", contents(got))
		}

		if got := search(t, db, alice, "friday", 0); len(got) != 1 {
			t.Fatalf("Search(friday) after the update = %q, want the memory", contents(got))
		}
	})
}

func TestSaveRejectsBadInput(t *testing.T) {
	t.Parallel()

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		db := storetest.Open(t, kind)

		tests := []struct {
			name    string
			owner   memory.Owner
			scope   memory.Scope
			content string
			field   string
		}{
			{"empty", alice, memory.ScopePrivate, "", "content"},
			{"only spaces", alice, memory.ScopePrivate, " \n\t ", "content"},
			{"too long", alice, memory.ScopePrivate, strings.Repeat("é", 2001), "content"},
			{"not UTF-8", alice, memory.ScopePrivate, "caf\xe9", "content"},
			{"unknown scope", alice, "public", "a fact", "scope"},
			{"empty scope", alice, "", "a fact", "scope"},
			{"no channel", memory.Owner{UserID: "x"}, memory.ScopeShared, "a fact", "channel"},
			{"no user", memory.Owner{Channel: "web"}, memory.ScopeShared, "a fact", "user_id"},
		}

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				_, err := memory.Save(context.Background(), db, agent, tt.owner, tt.scope,
					tt.content, t0)

				var ie *core.InputError
				if !errors.As(err, &ie) || ie.Field != tt.field {
					t.Fatalf("Save = %v, want an InputError on %s", err, tt.field)
				}
			})
		}

		if got := search(t, db, alice, "", 0); len(got) != 0 {
			t.Fatalf("bad input stored %q", contents(got))
		}

		// The limit counts characters, not bytes.
		save(t, db, alice, memory.ScopePrivate, strings.Repeat("é", 2000))
	})
}

// TestSaveEnforcesCap does not run in parallel: it lowers the package-wide
// MaxPerAgent, which the other tests read.
func TestSaveEnforcesCap(t *testing.T) {
	prev := memory.MaxPerAgent
	memory.MaxPerAgent = 3

	t.Cleanup(func() { memory.MaxPerAgent = prev })

	storetest.Each(t, func(t *testing.T, kind store.Dialect) {
		t.Parallel()

		ctx := context.Background()
		db := storetest.Open(t, kind)

		save(t, db, alice, memory.ScopePrivate, "one")
		save(t, db, bob, memory.ScopeShared, "two")
		third := save(t, db, alice, memory.ScopeShared, "three")

		_, err := memory.Save(ctx, db, agent, bob, memory.ScopePrivate, "four", t0)
		if !errors.Is(err, memory.ErrFull) {
			t.Fatalf("Save over the cap = %v, want ErrFull", err)
		}

		if _, err := memory.Save(ctx, db, "agent-2", bob, memory.ScopePrivate, "four",
			t0); err != nil {
			t.Fatalf("Save for another agent: %v", err)
		}

		if err := memory.Forget(ctx, db, agent, alice, third.ID); err != nil {
			t.Fatalf("Forget: %v", err)
		}

		save(t, db, bob, memory.ScopePrivate, "four")
	})
}

// save stores a memory for the test agent or fails the test.
func save(t *testing.T, db *store.DB, owner memory.Owner, scope memory.Scope,
	content string,
) *memory.Memory {
	t.Helper()

	m, err := memory.Save(context.Background(), db, agent, owner, scope, content, t0)
	if err != nil {
		t.Fatalf("Save(%q): %v", content, err)
	}

	return m
}

// search runs Search for the test agent or fails the test.
func search(t *testing.T, db *store.DB, viewer memory.Owner, query string, limit int,
) []memory.Memory {
	t.Helper()

	got, err := memory.Search(context.Background(), db, agent, viewer, query, limit)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}

	return got
}

// saveAt stores a shared memory of Bob for the test agent, created at the
// given time, or fails the test.
func saveAt(t *testing.T, db *store.DB, content string, at time.Time) {
	t.Helper()

	_, err := memory.Save(context.Background(), db, agent, bob, memory.ScopeShared, content, at)
	if err != nil {
		t.Fatalf("Save(%q): %v", content, err)
	}
}

// relevant runs Relevant for the test agent or fails the test.
func relevant(t *testing.T, db *store.DB, viewer memory.Owner, text string, limit int,
) []memory.Memory {
	t.Helper()

	got, err := memory.Relevant(context.Background(), db, agent, viewer, text, limit)
	if err != nil {
		t.Fatalf("Relevant(%q): %v", text, err)
	}

	return got
}

func contents(ms []memory.Memory) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Content)
	}

	return out
}
