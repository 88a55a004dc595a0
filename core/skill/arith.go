package skill

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Evaluate computes an arithmetic expression: numbers, + - * / % ^ (power,
// right-associative), unary minus and plus, parentheses, the constants pi
// and e, and the functions of mathFuncs. There is nothing else to reach, so
// no input can do more than arithmetic.
//
// It is a small recursive-descent parser rather than a general expression
// library: those call methods by name through reflection, which keeps the
// linker from dropping unused methods and made the executable 50 MB
// larger for a calculator.
func Evaluate(src string) (float64, error) {
	p := &arith{src: src}
	p.next()

	v, err := p.expr(0)
	if err != nil {
		return 0, fmt.Errorf("expression: %w", err)
	}

	if p.tok != "" {
		return 0, fmt.Errorf("expression: cannot read it: unexpected %q", p.tok)
	}

	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("expression: the result is not a finite number")
	}

	return v, nil
}

// mathFuncs are the functions an expression may call, by arity.
var mathFuncs = map[string]any{
	"sqrt": math.Sqrt, "abs": math.Abs, "round": math.Round, "floor": math.Floor,
	"ceil": math.Ceil, "log": math.Log10, "ln": math.Log, "exp": math.Exp,
	"sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
	"pow": math.Pow, "min": math.Min, "max": math.Max,
}

var mathConsts = map[string]float64{"pi": math.Pi, "e": math.E}

// arith is the parser's state: the source and the current token.
type arith struct {
	src   string
	pos   int
	tok   string
	depth int
}

// next reads the next token: a number, a name, or one operator character.
func (p *arith) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}

	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}

	start := p.pos
	c := rune(p.src[p.pos])

	switch {
	case unicode.IsDigit(c) || c == '.':
		for p.pos < len(p.src) && (unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '.') {
			p.pos++
		}
	case unicode.IsLetter(c):
		for p.pos < len(p.src) && unicode.IsLetter(rune(p.src[p.pos])) {
			p.pos++
		}
	default:
		p.pos++
	}

	p.tok = p.src[start:p.pos]
}

// binding powers of the binary operators.
var binding = map[string]int{"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "^": 4}

// expr parses operators that bind tighter than minPower.
func (p *arith) expr(minPower int) (float64, error) {
	p.depth++
	defer func() { p.depth-- }()

	if p.depth > 100 {
		return 0, errors.New("it nests too deeply")
	}

	left, err := p.unary()
	if err != nil {
		return 0, err
	}

	for {
		op := p.tok

		power, ok := binding[op]
		if !ok || power <= minPower {
			return left, nil
		}

		p.next()

		next := power
		if op == "^" {
			next = power - 1 // right-associative
		}

		right, err := p.expr(next)
		if err != nil {
			return 0, err
		}

		left = apply(op, left, right)
	}
}

func apply(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "%":
		return math.Mod(a, b)
	default:
		return math.Pow(a, b)
	}
}

// unary parses a signed operand; a sign binds looser than ^ (-2^2 is -4).
func (p *arith) unary() (float64, error) {
	switch p.tok {
	case "-", "+":
		sign := p.tok
		p.next()

		v, err := p.expr(3)
		if sign == "-" {
			v = -v
		}

		return v, err
	}

	return p.operand()
}

// operand parses a number, a constant, a call or a parenthesised
// expression.
func (p *arith) operand() (float64, error) {
	tok := p.tok

	switch {
	case tok == "":
		return 0, errors.New("cannot read it: it ends too early")
	case tok == "(":
		p.next()

		v, err := p.expr(0)
		if err != nil {
			return 0, err
		}

		return v, p.expect(")")
	case tok[0] == '.' || unicode.IsDigit(rune(tok[0])):
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot read the number %q", tok)
		}

		p.next()

		return v, nil
	case unicode.IsLetter(rune(tok[0])):
		p.next()
		return p.name(strings.ToLower(tok))
	default:
		return 0, fmt.Errorf("cannot read it: unexpected %q", tok)
	}
}

// name resolves a constant or calls a function.
func (p *arith) name(name string) (float64, error) {
	if v, ok := mathConsts[name]; ok {
		return v, nil
	}

	fn, ok := mathFuncs[name]
	if !ok {
		return 0, fmt.Errorf("%q is not a known function or constant", name)
	}

	if err := p.expect("("); err != nil {
		return 0, err
	}

	var args []float64

	for p.tok != ")" {
		v, err := p.expr(0)
		if err != nil {
			return 0, err
		}

		args = append(args, v)

		if p.tok != "," {
			break
		}

		p.next()
	}

	if err := p.expect(")"); err != nil {
		return 0, err
	}

	switch f := fn.(type) {
	case func(float64) float64:
		if len(args) != 1 {
			return 0, fmt.Errorf("%s takes 1 argument, got %d", name, len(args))
		}

		return f(args[0]), nil
	default:
		f2 := fn.(func(float64, float64) float64)
		if len(args) != 2 {
			return 0, fmt.Errorf("%s takes 2 arguments, got %d", name, len(args))
		}

		return f2(args[0], args[1]), nil
	}
}

func (p *arith) expect(tok string) error {
	if p.tok != tok {
		return fmt.Errorf("cannot read it: want %q, got %q", tok, p.tok)
	}

	p.next()

	return nil
}
