package lineproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// Helpers to write expected values briefly.
func flt(f float64) Value  { return Value{Kind: Float, Float: f} }
func in(n int64) Value     { return Value{Kind: Int, Int: n} }
func uin(n uint64) Value   { return Value{Kind: Uint, Uint: n} }
func str(s string) Value   { return Value{Kind: String, Str: s} }
func boolean(b bool) Value { return Value{Kind: Bool, Bool: b} }

type tags = map[string]string
type fields = map[string]Value

// parseOne parses a single line that must be good.
func parseOne(t *testing.T, line, prec string) Point {
	t.Helper()
	points, errs := Parse([]byte(line), prec)
	if len(errs) != 0 || len(points) != 1 {
		t.Fatalf("Parse(%q): %d points, errors %v; want 1 point, no error", line, len(points), errs)
	}
	return points[0]
}

// TestAirrohrVector parses the payload of the firmware vector
// "airrohr-influxdb-line-protocol" (copied from
// /work/shared/vectors/firmware.json) to its meaning.
func TestAirrohrVector(t *testing.T) {
	raw, err := os.ReadFile("testdata/airrohr-influxdb-line-protocol.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		ID      string         `json:"id"`
		Payload string         `json:"payload"`
		Meaning map[string]any `json:"meaning"`
	}
	if err := json.Unmarshal(raw, &vec); err != nil {
		t.Fatal(err)
	}
	if vec.ID != "airrohr-influxdb-line-protocol" {
		t.Fatalf("vector id %q", vec.ID)
	}
	// The firmware sends it as application/x-www-form-urlencoded, with a
	// trailing newline and without a timestamp.
	points, errs := Parse([]byte(vec.Payload), "ns")
	if len(errs) != 0 || len(points) != 1 {
		t.Fatalf("got %d points, errors %v", len(points), errs)
	}
	p := points[0]
	for k, want := range vec.Meaning {
		switch {
		case k == "measurement":
			if p.Measurement != want {
				t.Errorf("measurement %q, want %q", p.Measurement, want)
			}
		case p.Tags[k] != "":
			if p.Tags[k] != want {
				t.Errorf("tag %s = %q, want %v", k, p.Tags[k], want)
			}
		default:
			v, ok := p.Fields[k]
			if !ok {
				t.Errorf("field %s missing", k)
				continue
			}
			if v.Kind != Float || v.Float != want.(float64) {
				t.Errorf("field %s = %+v, want float %v", k, v, want)
			}
		}
	}
	// Beyond the vector's meaning: every field is a float (airrohr writes
	// no i suffix, so even samples=3016882 is a float), and there is no
	// timestamp.
	if len(p.Fields) != 10 || len(p.Tags) != 1 {
		t.Errorf("%d fields, %d tags; want 10, 1", len(p.Fields), len(p.Tags))
	}
	for k, v := range p.Fields {
		if v.Kind != Float {
			t.Errorf("field %s is %v, want float", k, v.Kind)
		}
	}
	if got := p.Fields["samples"].Float; got != 3016882 {
		t.Errorf("samples = %v", got)
	}
	if got := p.Fields["signal"].Float; got != -66 {
		t.Errorf("signal = %v", got)
	}
	if !p.Time.IsZero() {
		t.Errorf("time %v, want zero", p.Time)
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Point
	}{
		{"minimal", "m f=1", Point{Measurement: "m", Tags: tags{}, Fields: fields{"f": flt(1)}}},
		{"telegraf",
			"cpu,cpu=cpu-total,host=hive1 usage_idle=98.5,usage_user=1.25 1556813561098000000",
			Point{Measurement: "cpu", Tags: tags{"cpu": "cpu-total", "host": "hive1"},
				Fields: fields{"usage_idle": flt(98.5), "usage_user": flt(1.25)},
				Time:   time.Unix(0, 1556813561098000000).UTC()}},
		{"all kinds",
			`m i=-42i,u=42u,f=-1.5,s="x",b=t`,
			Point{Measurement: "m", Tags: tags{}, Fields: fields{
				"i": in(-42), "u": uin(42), "f": flt(-1.5), "s": str("x"), "b": boolean(true)}}},
		{"int limits", "m a=-9223372036854775808i,b=9223372036854775807i,c=18446744073709551615u,d=0u",
			Point{Measurement: "m", Tags: tags{}, Fields: fields{
				"a": in(math.MinInt64), "b": in(math.MaxInt64), "c": uin(math.MaxUint64), "d": uin(0)}}},
		{"floats", "m a=1.,b=.5,c=-.5,d=1e3,e=1E-3,f=-1.234456e+78,g=007,h=-0",
			Point{Measurement: "m", Tags: tags{}, Fields: fields{
				"a": flt(1), "b": flt(.5), "c": flt(-.5), "d": flt(1000), "e": flt(0.001),
				"f": flt(-1.234456e+78), "g": flt(7), "h": flt(math.Copysign(0, -1))}}},
		{"float underflow is zero", "m a=1e-400",
			Point{Measurement: "m", Tags: tags{}, Fields: fields{"a": flt(0)}}},
		{"booleans",
			"m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE",
			Point{Measurement: "m", Tags: tags{}, Fields: fields{
				"a": boolean(true), "b": boolean(true), "c": boolean(true), "d": boolean(true), "e": boolean(true),
				"f": boolean(false), "g": boolean(false), "h": boolean(false), "i": boolean(false), "j": boolean(false)}}},
		{"empty string", `m s=""`, Point{Measurement: "m", Tags: tags{}, Fields: fields{"s": str("")}}},
		{"string with separators", `m s="a b,c=d",t=1i 5`,
			Point{Measurement: "m", Tags: tags{}, Fields: fields{"s": str("a b,c=d"), "t": in(1)},
				Time: time.Unix(0, 5).UTC()}},
		{"zero timestamp", "m f=1 0", Point{Measurement: "m", Tags: tags{}, Fields: fields{"f": flt(1)}, Time: time.Unix(0, 0).UTC()}},
		{"negative timestamp", "m f=1 -1000", Point{Measurement: "m", Tags: tags{}, Fields: fields{"f": flt(1)}, Time: time.Unix(0, -1000).UTC()}},
		{"crlf", "m f=1 10\r", Point{Measurement: "m", Tags: tags{}, Fields: fields{"f": flt(1)}, Time: time.Unix(0, 10).UTC()}},
		{"extra spaces", "  m,t=1   f=1   10  ", Point{Measurement: "m", Tags: tags{"t": "1"}, Fields: fields{"f": flt(1)}, Time: time.Unix(0, 10).UTC()}},
		{"trailing space no timestamp", "m f=1 ", Point{Measurement: "m", Tags: tags{}, Fields: fields{"f": flt(1)}}},
		{"quotes in names are literal", `"m",'t'="v" "f"=1`,
			Point{Measurement: `"m"`, Tags: tags{`'t'`: `"v"`}, Fields: fields{`"f"`: flt(1)}}},
		{"equals in measurement", "a=b f=1", Point{Measurement: "a=b", Tags: tags{}, Fields: fields{"f": flt(1)}}},
		{"unicode", "bienen,stock=🐝 temp=\"34 °C\"",
			Point{Measurement: "bienen", Tags: tags{"stock": "🐝"}, Fields: fields{"temp": str("34 °C")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseOne(t, tt.line, "ns")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestEscaping(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		meas   string
		tags   tags
		fields fields
	}{
		{"measurement space", `my\ meas f=1`, "my meas", tags{}, fields{"f": flt(1)}},
		{"measurement comma", `my\,meas f=1`, "my,meas", tags{}, fields{"f": flt(1)}},
		{"measurement equals not an escape", `my\=meas f=1`, `my\=meas`, tags{}, fields{"f": flt(1)}},
		{"measurement other backslash", `C:\temp f=1`, `C:\temp`, tags{}, fields{"f": flt(1)}},
		{"tag key and value", `m,tag\ Key1=tag\ Value1,k\,2=v\,2,k\=3=v\=3 f=1`, "m",
			tags{"tag Key1": "tag Value1", "k,2": "v,2", "k=3": "v=3"}, fields{"f": flt(1)}},
		{"tag value backslash literal", `m,path=C:\dir f=1`, "m", tags{"path": `C:\dir`}, fields{"f": flt(1)}},
		{"double backslash stays in tags", `m,t=a\\b f=1`, "m", tags{"t": `a\\b`}, fields{"f": flt(1)}},
		{"backslash before escaped comma", `m,t=a\\,u f=1`, "m", tags{"t": `a\,u`}, fields{"f": flt(1)}},
		{"field key", `m f\ 1=1,f\,2=2,f\=3=3`, "m", tags{}, fields{"f 1": flt(1), "f,2": flt(2), "f=3": flt(3)}},
		{"string quote", `m s="\"string\" within a string"`, "m", tags{}, fields{"s": str(`"string" within a string`)}},
		{"string backslashes", `m a="\\",b="\\\\",c="\\\"",d="\"",e="x\ny",f="\a\\"`, "m", tags{},
			// \\ is \, \" is ", any other backslash stays literal.
			fields{"a": str(`\`), "b": str(`\\`), "c": str(`\"`), "d": str(`"`), "e": str(`x\ny`), "f": str(`\a\`)}},
		{"string ends with backslash", `m s="C:\\" 1`, "m", tags{}, fields{"s": str(`C:\`)}},
		{"string commas and equals", `m s="a=b,c d"`, "m", tags{}, fields{"s": str("a=b,c d")}},
		{"escaped space then field", `m\  f=1`, "m ", tags{}, fields{"f": flt(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseOne(t, tt.line, "ns")
			if p.Measurement != tt.meas {
				t.Errorf("measurement %q, want %q", p.Measurement, tt.meas)
			}
			if !reflect.DeepEqual(p.Tags, tt.tags) {
				t.Errorf("tags %q, want %q", p.Tags, tt.tags)
			}
			if !reflect.DeepEqual(p.Fields, tt.fields) {
				t.Errorf("fields %+v, want %+v", p.Fields, tt.fields)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, line, msg string
	}{
		{"measurement only", "m", "missing fields"},
		{"measurement and space", "m ", "missing fields"},
		{"tags only", "m,t=1", "missing fields"},
		{"tags and space", "m,t=1 ", "missing fields"},
		{"empty measurement", ",t=1 f=1", "missing measurement"},
		{"empty tag key", "m,=1 f=1", "missing tag key"},
		{"trailing comma after measurement", "m, f=1", "missing tag key"},
		{"tag without =", "m,t f=1", `missing '=' after tag key "t"`},
		{"empty tag value", "m,t= f=1", `missing value of tag "t"`},
		{"equals in tag value", "m,t=a=b f=1", `unescaped '=' in value of tag "t"`},
		{"duplicate tag", "m,t=1,t=2 f=1", `duplicate tag "t"`},
		{"field without =", "m f", `missing '=' after field key "f"`},
		{"field without value", "m f=", `missing value of field "f"`},
		{"field empty value then more", "m f=,g=1", `missing value of field "f"`},
		{"empty field key", "m =1", "missing field key"},
		{"trailing comma in fields", "m f=1,", "missing field after ','"},
		{"comma space in fields", "m f=1, g=2", "missing field after ','"},
		{"duplicate field", "m f=1,f=2", `duplicate field "f"`},
		{"unquoted string", "m f=abc", `field "f": invalid value "abc" (strings must be double-quoted)`},
		{"bad number", "m f=1.2.3", `field "f": invalid number "1.2.3"`},
		{"plus sign", "m f=+1", `invalid number "+1"`},
		{"lone minus", "m f=-", `invalid number "-"`},
		{"bad exponent", "m f=1e", `invalid number "1e"`},
		{"underscore", "m f=1_000", `invalid number "1_000"`},
		{"hex float", "m f=0x1p3", `invalid number "0x1p3"`},
		{"nan", "m f=NaN", `invalid value "NaN"`},
		{"inf", "m f=-Inf", `invalid number "-Inf"`},
		{"float overflow", "m f=1e400", `float "1e400" out of range`},
		{"bad integer", "m f=1.5i", `invalid integer "1.5i"`},
		{"integer overflow", "m f=9223372036854775808i", "out of range"},
		{"negative unsigned", "m f=-1u", `invalid unsigned integer "-1u"`},
		{"unsigned overflow", "m f=18446744073709551616u", "out of range"},
		{"bad boolean", "m f=yes", "invalid value"},
		{"bad boolean t", "m f=tru", `invalid boolean "tru"`},
		{"unterminated string", `m f="abc`, `field "f": unterminated string`},
		{"unterminated string escaped quote", `m f="abc\"`, "unterminated string"},
		{"text after string", `m f="a"b`, `unexpected 'b' after value of field "f"`},
		{"bad timestamp", "m f=1 12:00", `invalid timestamp "12:00"`},
		{"float timestamp", "m f=1 1.5", `invalid timestamp "1.5"`},
		{"timestamp overflow", "m f=1 9223372036854775808", "out of range"},
		{"reserved timestamp", "m f=1 9223372036854775807", "out of range"},
		{"text after timestamp", "m f=1 1 2", `unexpected text after timestamp: "2"`},
		{"control char", "m\x01 f=1", "control character"},
		{"tab separator", "m\tf=1", "control character"},
		{"invalid utf8 measurement", "m\xff f=1", "invalid UTF-8 in measurement"},
		{"invalid utf8 string", "m f=\"\xff\"", "invalid UTF-8 in string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A good line before and after: the bad line is skipped,
			// the good ones are kept.
			in := "ok f=1\n" + tt.line + "\nok f=2\n"
			points, errs := Parse([]byte(in), "ns")
			if len(points) != 2 {
				t.Errorf("%d points, want the 2 good lines", len(points))
			}
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one", errs)
			}
			var le *LineError
			if !errors.As(errs[0], &le) {
				t.Fatalf("error %T, want *LineError", errs[0])
			}
			if le.Line != 2 {
				t.Errorf("line %d, want 2", le.Line)
			}
			if !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("message %q, want it to contain %q", le.Msg, tt.msg)
			}
			if want := "line 2: " + le.Msg; le.Error() != want {
				t.Errorf("Error() = %q, want %q", le.Error(), want)
			}
		})
	}
}

func TestErrorMessagesAreShort(t *testing.T) {
	long := strings.Repeat("x", 100000)
	_, errs := Parse([]byte("m f="+long), "ns")
	if len(errs) != 1 || len(errs[0].Error()) > 200 {
		t.Fatalf("errors %d, message of %d bytes", len(errs), len(errs[0].Error()))
	}
}

func TestPrecision(t *testing.T) {
	tests := []struct {
		prec string
		ts   string
		want time.Time
	}{
		{"", "1556813561098000000", time.Unix(0, 1556813561098000000)},
		{"ns", "1556813561098000000", time.Unix(0, 1556813561098000000)},
		{"n", "1", time.Unix(0, 1)},
		{"us", "1556813561098000", time.Unix(0, 1556813561098000000)},
		{"u", "1556813561098000", time.Unix(0, 1556813561098000000)},
		{"µs", "1", time.Unix(0, 1000)},
		{"ms", "1556813561098", time.Unix(0, 1556813561098000000)},
		{"s", "1556813561", time.Unix(1556813561, 0)},
		{"s", "-1", time.Unix(-1, 0)},
		{"m", "25946892", time.Unix(25946892*60, 0)},
		{"h", "432448", time.Unix(432448*3600, 0)},
		{"s", "9223372036", time.Unix(9223372036, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.prec+"/"+tt.ts, func(t *testing.T) {
			p := parseOne(t, "m f=1 "+tt.ts, tt.prec)
			if !p.Time.Equal(tt.want) || p.Time.Location() != time.UTC {
				t.Errorf("time %v, want %v in UTC", p.Time, tt.want.UTC())
			}
		})
	}

	// Out of range only once scaled to nanoseconds.
	for _, tt := range []struct{ prec, ts string }{
		{"s", "9223372037"}, {"s", "-9223372037"}, {"ms", "9223372036855"},
		{"h", "2562048"}, {"m", "153722868"}, {"us", "-9223372036854776"},
	} {
		_, errs := Parse([]byte("m f=1 "+tt.ts), tt.prec)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "out of range for precision "+tt.prec) {
			t.Errorf("%s %s: errors %v, want out of range", tt.prec, tt.ts, errs)
		}
	}

	// An unknown precision is one plain error, and nothing is parsed.
	points, errs := Parse([]byte("m f=1 1\n"), "days")
	var le *LineError
	if len(points) != 0 || len(errs) != 1 || errors.As(errs[0], &le) {
		t.Errorf("unknown precision: %d points, errors %v", len(points), errs)
	}
	sc := NewScanner(strings.NewReader("m f=1 1\n"), "days")
	if sc.Scan() || sc.Err() == nil {
		t.Errorf("Scanner with unknown precision: Err %v", sc.Err())
	}

	for _, name := range []string{"ns", "us", "ms", "s", "m", "h"} {
		p, err := ParsePrecision(name)
		if err != nil || p.String() != name {
			t.Errorf("ParsePrecision(%q) = %v, %v", name, p, err)
		}
	}
}

// exportSnippet is what `influx_inspect export` writes (InfluxDB 1.x:
// cmd/influx_inspect/export), plus the spaced variants that hand-written
// and older exports use.
const exportSnippet = `# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z
# DDL
CREATE DATABASE apiary WITH NAME autogen
CREATE DATABASE "old db" WITH NAME "weekly"
CREATE RETENTION POLICY autogen ON apiary DURATION inf REPLICATION 1
# DML
# CONTEXT-DATABASE:apiary
# CONTEXT-RETENTION-POLICY:autogen
# writing tsm data
hive,hive=1 weight=42.5 1556813561098000000
hive,hive=1 weight=42.75 1556813621098000000

# CONTEXT-DATABASE: old db
# CONTEXT-RETENTION-POLICY: weekly
# writing wal data
hive,hive=2 note="swarmed" 1556813561098000000
hive,hive=2 count=3i 1556813561098000000
`

func TestExport(t *testing.T) {
	points, errs := Parse([]byte(exportSnippet), "ns")
	if len(errs) != 0 {
		t.Fatalf("errors %v", errs)
	}
	want := []struct {
		db, rp, hive string
		field        string
		value        Value
	}{
		{"apiary", "autogen", "1", "weight", flt(42.5)},
		{"apiary", "autogen", "1", "weight", flt(42.75)},
		{"old db", "weekly", "2", "note", str("swarmed")},
		{"old db", "weekly", "2", "count", in(3)},
	}
	if len(points) != len(want) {
		t.Fatalf("%d points, want %d", len(points), len(want))
	}
	for i, w := range want {
		p := points[i]
		if p.Database != w.db || p.RetentionPolicy != w.rp || p.Tags["hive"] != w.hive ||
			!reflect.DeepEqual(p.Fields, fields{w.field: w.value}) {
			t.Errorf("point %d = %+v, want %+v", i, p, w)
		}
	}

	// Before any CONTEXT comment, and outside exports, Database is empty;
	// a lowercase DDL statement is skipped too.
	points, errs = Parse([]byte("create database x\nm f=1\n"), "ns")
	if len(errs) != 0 || len(points) != 1 || points[0].Database != "" {
		t.Errorf("got %+v, %v", points, errs)
	}
}

func TestExportBadContext(t *testing.T) {
	in := "# CONTEXT-DATABASE: good\nm f=1\n# CONTEXT-DATABASE: b\xffd\nm f=2\n"
	points, errs := Parse([]byte(in), "ns")
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "line 3: invalid UTF-8") {
		t.Errorf("errors %v", errs)
	}
	// The bad name still ends the previous context.
	if len(points) != 2 || points[0].Database != "good" || points[1].Database != "b\uFFFDd" {
		t.Errorf("points %+v", points)
	}
}

func TestCommentsAndBlankLines(t *testing.T) {
	in := "\xef\xbb\xbf# header\n\n   \n\t\r\n  # indented comment\nm f=1\r\n#m f=2\n"
	points, errs := Parse([]byte(in), "ns")
	if len(errs) != 0 || len(points) != 1 {
		t.Fatalf("points %+v, errors %v", points, errs)
	}
	// Line numbers count blank and comment lines.
	_, errs = Parse([]byte("# c\n\nbad\n"), "ns")
	if len(errs) != 1 || errs[0].Error() != "line 3: missing fields" {
		t.Errorf("errors %v", errs)
	}
}

// scanAll runs a Scanner over r and collects what it yields.
func scanAll(t *testing.T, sc *Scanner) ([]Point, []error) {
	t.Helper()
	var points []Point
	var errs []error
	for sc.Scan() {
		if le := sc.LineErr(); le != nil {
			if !reflect.DeepEqual(sc.Point(), Point{}) {
				t.Errorf("line %d: Point not zero with a LineErr", le.Line)
			}
			if sc.Line() != le.Line {
				t.Errorf("Line() = %d, LineErr().Line = %d", sc.Line(), le.Line)
			}
			errs = append(errs, le)
			continue
		}
		points = append(points, sc.Point())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	return points, errs
}

func TestScannerMatchesParse(t *testing.T) {
	inputs := []string{
		"",
		"\n",
		"m f=1",
		"m f=1\n",
		"m f=1\nbad\nm,t=2 f=2i 3\n\n# c\nm f=\"unterminated\n m f=4",
		exportSnippet,
		"m f=1\r\nm f=2\r\n",
	}
	for _, in := range inputs {
		wantP, wantE := Parse([]byte(in), "ms")
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(in),
			"onebyte": iotest.OneByteReader(strings.NewReader(in)),
			"half":    iotest.HalfReader(strings.NewReader(in)),
		} {
			gotP, gotE := scanAll(t, NewScanner(r, "ms"))
			if !reflect.DeepEqual(gotP, wantP) || !reflect.DeepEqual(gotE, wantE) {
				t.Errorf("%s %q:\nScanner %+v %v\n  Parse %+v %v", name, in, gotP, gotE, wantP, wantE)
			}
		}
	}
}

func TestLongLines(t *testing.T) {
	long := "m f=\"" + strings.Repeat("x", MaxLineLength) + "\""
	fits := "m f=\"" + strings.Repeat("x", MaxLineLength-6) + "\""
	if len(fits) != MaxLineLength {
		t.Fatalf("len(fits) = %d", len(fits))
	}
	in := "m f=1\n" + long + "\n" + fits + "\n" + long + "\nm f=2"
	check := func(name string, points []Point, errs []error) {
		t.Helper()
		if len(points) != 3 || len(errs) != 2 {
			t.Fatalf("%s: %d points, %d errors; want 3, 2", name, len(points), len(errs))
		}
		if got := errs[0].Error(); got != "line 2: line longer than 1048576 bytes" {
			t.Errorf("%s: %q", name, got)
		}
		if got := errs[1].(*LineError).Line; got != 4 {
			t.Errorf("%s: second error on line %d", name, got)
		}
		if len(points[1].Fields["f"].Str) != MaxLineLength-6 {
			t.Errorf("%s: the line that fits was not parsed whole", name)
		}
	}
	points, errs := Parse([]byte(in), "ns")
	check("Parse", points, errs)
	points, errs = scanAll(t, NewScanner(strings.NewReader(in), "ns"))
	check("Scanner", points, errs)

	// A long last line without a newline.
	points, errs = scanAll(t, NewScanner(strings.NewReader("m f=1\n"+long), "ns"))
	if len(points) != 1 || len(errs) != 1 {
		t.Errorf("long last line: %d points, %v", len(points), errs)
	}
}

// TestScannerMemory checks that a huge line is not buffered: a 64 MiB line
// costs the Scanner no more than its bound.
func TestScannerMemory(t *testing.T) {
	r := io.MultiReader(
		strings.NewReader("m f="),
		io.LimitReader(zeros{}, 64<<20),
		strings.NewReader("\nm f=1\n"),
	)
	sc := NewScanner(r, "ns")
	points, errs := scanAll(t, sc)
	if len(points) != 1 || len(errs) != 1 {
		t.Fatalf("%d points, %v", len(points), errs)
	}
	if c := cap(sc.buf); c > 2*MaxLineLength {
		t.Errorf("buffer grew to %d bytes", c)
	}
}

// zeros is an endless stream of '0'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("m f=1\nm f=2"), iotest.ErrReader(boom))
	sc := NewScanner(r, "ns")
	var n int
	for sc.Scan() {
		if sc.LineErr() != nil {
			t.Errorf("line error %v", sc.LineErr())
		}
		n++
	}
	// The partial line before the error is not parsed.
	if n != 1 || !errors.Is(sc.Err(), boom) {
		t.Errorf("%d points, Err %v; want 1, boom", n, sc.Err())
	}
	if sc.Scan() {
		t.Error("Scan after the end returned true")
	}
}

// TestLinear parses lines near the length limit built from the patterns
// that would be quadratic in a careless parser (escapes, many tags and
// fields, long strings); it would time out if they were.
func TestLinear(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`m\ ` + strings.Repeat(`\,`, 50000))
	for i := range 20000 {
		b.WriteString(",t" + strconv.Itoa(i) + `=v\ \=`)
	}
	b.WriteByte(' ')
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`f\ ` + strconv.Itoa(i) + `="` + strings.Repeat(`\"`, 5) + `"`)
	}
	b.WriteString(" 1\n")
	b.WriteString(`m s="` + strings.Repeat(`\\`, 400000) + "\"\n")
	b.WriteString(`m s="` + strings.Repeat(`\`, 900000) + "\n") // unterminated
	start := time.Now()
	points, errs := Parse(b.Bytes(), "ns")
	if len(points) != 2 || len(errs) != 1 {
		t.Fatalf("%d points, errors %v", len(points), errs)
	}
	if len(points[0].Tags) != 20000 || len(points[0].Fields) != 20000 || len(points[1].Fields["s"].Str) != 400000 {
		t.Errorf("wrong sizes")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// encode writes p as line protocol, escaping as the reference says, with a
// nanosecond timestamp.
func encode(p Point) string {
	esc := func(s, chars string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(chars, s[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString(esc(p.Measurement, ", "))
	keys := make([]string, 0, len(p.Tags))
	for k := range p.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("," + esc(k, ",= ") + "=" + esc(p.Tags[k], ",= "))
	}
	b.WriteByte(' ')
	keys = keys[:0]
	for k := range p.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(esc(k, ",= ") + "=")
		switch v := p.Fields[k]; v.Kind {
		case Float:
			b.WriteString(strconv.FormatFloat(v.Float, 'g', -1, 64))
		case Int:
			b.WriteString(strconv.FormatInt(v.Int, 10) + "i")
		case Uint:
			b.WriteString(strconv.FormatUint(v.Uint, 10) + "u")
		case String:
			b.WriteString(`"` + esc(v.Str, `"\`) + `"`)
		case Bool:
			b.WriteString(strconv.FormatBool(v.Bool))
		}
	}
	if !p.Time.IsZero() {
		b.WriteString(" " + strconv.FormatInt(p.Time.UnixNano(), 10))
	}
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	for _, line := range []string{
		`my\ m\,x,t\ k\=1=v\,1\=\ 2 f\ 1="a \"b\" \\c",g=1.5e+300,h=-3i,i=4u,j=F 1556813561098000000`,
		`m,t=a\\\,b f="\\\""`,
	} {
		p := parseOne(t, line, "ns")
		q := parseOne(t, encode(p), "ns")
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%q:\n%+v\n%+v", line, p, q)
		}
	}
}

func TestValueInterface(t *testing.T) {
	for _, tt := range []struct {
		v    Value
		want any
	}{
		{flt(1.5), 1.5}, {in(-1), int64(-1)}, {uin(1), uint64(1)},
		{str("x"), "x"}, {boolean(true), true}, {Value{}, nil},
	} {
		if got := tt.v.Interface(); got != tt.want {
			t.Errorf("%+v.Interface() = %#v, want %#v", tt.v, got, tt.want)
		}
	}
	if Float.String() != "float" || Invalid.String() != "invalid" {
		t.Error("Kind.String")
	}
}

// fuzzPrecisions are the precisions FuzzParse chooses from.
var fuzzPrecisions = []string{"ns", "us", "ms", "s", "m", "h"}

// FuzzParse checks, on any input, that parsing does not panic; that Parse
// and a Scanner reading one byte at a time agree; that every point is
// well-formed; and that every point survives being written back out as line
// protocol and parsed again.
func FuzzParse(f *testing.F) {
	f.Add([]byte("cpu,host=a usage=1.5,n=3i,u=4u,s=\"x\",b=t 1556813561098000000\n"), uint8(0))
	f.Add([]byte(exportSnippet), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, precIndex uint8) {
		prec := fuzzPrecisions[int(precIndex)%len(fuzzPrecisions)]
		points, errs := Parse(data, prec)

		// A short line limit in both, to exercise the long-line paths.
		p, _ := ParsePrecision(prec)
		sp, se := parseAll(data, p, 24)
		sc := NewScanner(iotest.OneByteReader(bytes.NewReader(data)), prec)
		sc.maxLine = 24
		gp, ge := scanAll(t, sc)
		if !reflect.DeepEqual(sp, gp) || !reflect.DeepEqual(se, ge) {
			t.Fatalf("Scanner and Parse differ:\nScanner %+v %v\n  Parse %+v %v", gp, ge, sp, se)
		}

		lines := bytes.Count(data, []byte("\n")) + 1
		last := 0
		for _, err := range errs {
			le, ok := err.(*LineError)
			if !ok {
				t.Fatalf("error %T %v", err, err)
			}
			if le.Line <= last || le.Line > lines || le.Msg == "" {
				t.Fatalf("bad error line %d (after %d, of %d): %v", le.Line, last, lines, le)
			}
			last = le.Line
		}
		for _, p := range points {
			if p.Measurement == "" || len(p.Fields) == 0 || p.Tags == nil {
				t.Fatalf("malformed point %+v", p)
			}
			all := []string{p.Measurement, p.Database, p.RetentionPolicy}
			for k, v := range p.Tags {
				if k == "" || v == "" {
					t.Fatalf("empty tag in %+v", p)
				}
				all = append(all, k, v)
			}
			for k, v := range p.Fields {
				if k == "" || v.Kind < Float || v.Kind > Bool {
					t.Fatalf("bad field in %+v", p)
				}
				if v.Kind == Float && (math.IsNaN(v.Float) || math.IsInf(v.Float, 0)) {
					t.Fatalf("non-finite float in %+v", p)
				}
				all = append(all, k, v.Str)
			}
			for _, s := range all {
				if !utf8.ValidString(s) || strings.ContainsAny(s, "\n") {
					t.Fatalf("bad string %q in %+v", s, p)
				}
			}
			if !p.Time.IsZero() && p.Time.Location() != time.UTC {
				t.Fatalf("time not in UTC: %+v", p)
			}
			// Not on the first line, where a BOM would be dropped.
			line := "# round trip\n" + encode(p)
			again, errs := Parse([]byte(line), "ns")
			if len(errs) != 0 || len(again) != 1 {
				t.Fatalf("re-encoded %q: errors %v", line, errs)
			}
			q := again[0]
			q.Database, q.RetentionPolicy = p.Database, p.RetentionPolicy
			if !reflect.DeepEqual(p, q) {
				t.Fatalf("round trip via %q:\n got %+v\nwant %+v", line, q, p)
			}
		}
	})
}
