package transform

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	noASN := Env{GeoIP: stubGeo{has: map[string]bool{"country": true}}}
	tests := []struct {
		name   string
		where  string
		fields []string
		env    Env
		want   []CompileError
	}{
		{"unknown field in where", "byts > 1", nil, Env{},
			[]CompileError{{-1, 0, `unknown field "byts" (did you mean "bytes"?)`}}},
		{"unknown field without suggestion", "", []string{"x = zzzzzz + 1"}, Env{},
			[]CompileError{{0, 4, `unknown field "zzzzzz"`}}},
		{"dotted field suggestion", "dev.tmp > 1", nil, Env{},
			[]CompileError{{-1, 0, `unknown field "dev.tmp" (did you mean "dev.temp"?)`}}},
		{"unknown function", "", []string{"x = summ(bytes, 1)"}, Env{},
			[]CompileError{{0, 4, `unknown function "summ" (did you mean "sum"?)`}}},
		{"unknown function far", "", []string{"x = frobnicate(bytes)"}, Env{},
			[]CompileError{{0, 4, `unknown function "frobnicate"`}}},
		{"arity exact", "", []string{"x = lower(proto, proto)"}, Env{},
			[]CompileError{{0, 4, "lower() takes 1 argument, got 2"}}},
		{"arity exact plural", "", []string{"x = if(true, 1)"}, Env{},
			[]CompileError{{0, 4, "if() takes 3 arguments, got 2"}}},
		{"arity at least", "", []string{"x = sum(bytes)"}, Env{},
			[]CompileError{{0, 4, "sum() takes at least 2 arguments, got 1"}}},
		{"arity range", "", []string{"x = subnet(src_ip)"}, Env{},
			[]CompileError{{0, 4, "subnet() takes 2 to 3 arguments, got 1"}}},
		{"arithmetic on strings", "", []string{"x = proto + 1"}, Env{},
			[]CompileError{{0, 10, "operator + needs numbers, got string and number (use concat() to join strings)"}}},
		{"multiply strings", "", []string{"x = proto * proto"}, Env{},
			[]CompileError{{0, 10, "operator * needs numbers, got string and string"}}},
		{"unary minus on string", "", []string{"x = -proto"}, Env{},
			[]CompileError{{0, 4, "unary - needs a number, got string"}}},
		{"where not bool", "bytes + 1", nil, Env{},
			[]CompileError{{-1, 6, "where clause must be a boolean (a comparison such as x == 1), got number"}}},
		{"and on numbers", "bytes and true", nil, Env{},
			[]CompileError{{-1, 6, "operator and needs booleans, got number and bool"}}},
		{"not on number", "not bytes", nil, Env{},
			[]CompileError{{-1, 0, "not needs a boolean, got number"}}},
		{"compare mixed", "proto == 6", nil, Env{},
			[]CompileError{{-1, 6, "cannot compare string with number (convert one side with num() or str())"}}},
		{"compare bool with number", "(bytes > 1) == 1", nil, Env{},
			[]CompileError{{-1, 12, "cannot compare bool with number"}}},
		{"upper-case keyword", "bytes > 1 AND packets > 1", nil, Env{},
			[]CompileError{{-1, 10, `expected an operator or end of expression, found "AND" (keywords are lower case: "and")`}}},
		{"order bools", "(bytes > 1) < true", nil, Env{},
			[]CompileError{{-1, 12, "operator < cannot order booleans, only == and != compare them"}}},
		{"function arg type", "", []string{"x = lower(bytes)"}, Env{},
			[]CompileError{{0, 10, "lower() argument 1 must be a string, got number"}}},
		{"concat number", "", []string{"x = concat(proto, port)"}, Env{},
			[]CompileError{{0, 18, "concat() argument 2 must be a string, got number (use str() to convert a number)"}}},
		{"if branches", "", []string{"x = if(bytes > 1, 1, 'a')"}, Env{},
			[]CompileError{{0, 21, "if() branches must have the same type, got number and string"}}},
		{"geo without database", "", []string{"c = country(src_ip)"}, Env{},
			[]CompileError{{0, 4, "country(): no geoip database configured for country (set geoip.country or geoip.city)"}}},
		{"geo city without database", "", []string{"c = city(src_ip)"}, Env{},
			[]CompileError{{0, 4, "city(): no geoip database configured for city (set geoip.city)"}}},
		{"geo database lacks asn", "", []string{"c = country(src_ip)", "a = asn(src_ip)", "o = as_org(src_ip)"}, noASN,
			[]CompileError{
				{1, 4, "asn(): no geoip database configured for asn (set geoip.asn)"},
				{2, 4, "as_org(): no geoip database configured for as_org (set geoip.asn)"},
			}},
		{"geo wrong arg", "", []string{"c = country(bytes)"}, fullGeo,
			[]CompileError{{0, 12, "country() argument 1 must be a string, got number"}}},
		{"subnet prefix too long v4", "", []string{"n = subnet(src_ip, 33, 64)"}, Env{},
			[]CompileError{{0, 19, "subnet() prefix length 33 is out of range 0..32"}}},
		{"subnet prefix too long", "", []string{"n = subnet(src_ip, 129)"}, Env{},
			[]CompileError{{0, 19, "subnet() prefix length 129 is out of range 0..128"}}},
		{"subnet prefix fraction", "", []string{"n = subnet(src_ip, 2.5)"}, Env{},
			[]CompileError{{0, 19, "subnet() prefix length 2.5 is out of range 0..128"}}},
		{"subnet prefix not constant", "", []string{"n = subnet(src_ip, packets)"}, Env{},
			[]CompileError{{0, 19, "subnet() prefix length must be a constant"}}},
		{"subnet constant bad ip", "", []string{"n = subnet('nope', 24)"}, Env{},
			[]CompileError{{0, 4, `subnet() at offset 4: "nope" is not an IP address`}}},
		{"constant division by zero", "", []string{"x = bytes / 0"}, Env{},
			[]CompileError{{0, 10, "division by zero"}}},
		{"constant modulo by folded zero", "", []string{"x = bytes % (2 - 2)"}, Env{},
			[]CompileError{{0, 10, "division by zero"}}},
		{"constant num", "", []string{"x = num('abc')"}, Env{},
			[]CompileError{{0, 4, `num() at offset 4: "abc" is not a finite number`}}},
		{"in non-constant", "bytes in [packets]", nil, Env{},
			[]CompileError{{-1, 10, "list items after in must be constants"}}},
		{"in mixed", "proto in ['tcp', 6]", nil, Env{},
			[]CompileError{{-1, 17, "list item is a number, but the left side of in is a string"}}},
		{"in bool", "(bytes > 1) in [true]", nil, Env{},
			[]CompileError{{-1, 12, "in needs a number or a string on the left, got bool"}}},
		{"where sees derived field", "kb > 1", []string{"kb = bytes / 1000"}, Env{},
			[]CompileError{{-1, 0, `field "kb" is derived by fields[0], which runs after where`}}},
		{"redefine kind", "", []string{"bytes = lower(proto)"}, Env{},
			[]CompileError{{0, 0, `field "bytes" is a number, cannot redefine it as a string`}}},
		{"field syntax", "", []string{"x bytes"}, Env{},
			[]CompileError{{0, 2, `expected "=" after the field name (name = expression), found "bytes"`}}},
		{"field with ==", "", []string{"x == bytes"}, Env{},
			[]CompileError{{0, 2, `expected "=" after the field name (name = expression), found "=="`}}},
		{"field empty", "", []string{""}, Env{},
			[]CompileError{{0, 0, "empty field expression, want name = expression"}}},
		{"field no expr", "", []string{"x ="}, Env{},
			[]CompileError{{0, 3, `missing expression after "="`}}},
		{"field starts with number", "", []string{"1 = x"}, Env{},
			[]CompileError{{0, 0, `expected a field name (name = expression), found "1"`}}},
		{"syntax in where", "bytes >", nil, Env{},
			[]CompileError{{-1, 7, `expected a value (number, string, field, function call or "("), found end of expression`}}},
		{"every expression reported, once each", "byts > 1 and proto = 1",
			[]string{"a = summ(1, 2)", "ok = bytes * 8", "b = lower(bytes)", "c = a + 1", "d = nope"}, Env{},
			[]CompileError{
				{-1, 19, `"=" assigns a field; use == to compare`},
				{0, 4, `unknown function "summ" (did you mean "sum"?)`},
				{2, 10, "lower() argument 1 must be a string, got number"},
				// c = a + 1 refers to the failed a: not reported again.
				{4, 4, `unknown field "nope"`},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := testSchema()
			p, err := Compile(s, tt.where, tt.fields, tt.env)
			if err == nil {
				t.Fatalf("no error, program %v", p)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			var got []CompileError
			for _, e := range list {
				got = append(got, *e)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("error %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			var one *CompileError
			if !errors.As(err, &one) || *one != tt.want[0] {
				t.Errorf("errors.As(*CompileError) = %+v", one)
			}
		})
	}
}

func TestCompileErrorText(t *testing.T) {
	s, _ := testSchema()
	_, err := Compile(s, "byts > 1", []string{"x = summ(1, 2)"}, Env{})
	want := "where: offset 0: unknown field \"byts\" (did you mean \"bytes\"?)\n" +
		"fields[0]: offset 4: unknown function \"summ\" (did you mean \"sum\"?)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestCompileConstantWhere(t *testing.T) {
	s, row := testSchema()
	p, err := Compile(s, "  ", nil, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if keep, _ := p.Run(row); !keep || p.where != nil {
		t.Fatal("blank where must keep every record")
	}
	p, err = Compile(s, "1 > 2 or 'a' == 'b'", nil, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if keep, _ := p.Run(row); keep {
		t.Fatal("constant false where kept a record")
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"src_ip", "dst_ip", "bytes", "packets"}
	for in, want := range map[string]string{"src_ipp": "src_ip", "SRC_IP": "src_ip", "byte": "bytes", "pakets": "packets", "qqqq": ""} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.Contains(didYouMean("summ", builtinNames), `"sum"`) {
		t.Error("summ does not suggest sum")
	}
}
