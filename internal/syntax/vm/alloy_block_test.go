package vm_test

import (
	"reflect"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// TestAlloyBlocks pins the cases of Alloy's vm_block_test.go that shoal
// supports (all but enum blocks, squash through a pointer and
// UnmarshalAlloy, which no component uses). Where Alloy reports a missing
// attribute or block without a position, shoal gives the block's. The label
// of the block handed to Evaluate is the caller's (a component's name), so
// the label cases are pinned on nested blocks.
func TestAlloyBlocks(t *testing.T) {
	type child struct {
		Attr bool `alloy:"attr,attr"`
	}
	type inner struct {
		InnerField1 string `alloy:"inner_field_1,attr,optional"`
		InnerField2 string `alloy:"inner_field_2,attr,optional"`
	}
	type innerBlocks struct {
		Inner1 child `alloy:"inner_block_1,block"`
		Inner2 child `alloy:"inner_block_2,block"`
	}
	tests := []struct {
		name string
		src  string
		into any // a pointer to a zero value
		want any // what it points to afterwards, or nil for an error
		err  string
	}{
		{"attributes", "some_block {\n\tnumber = 15\n\tstring = \"Hello, world!\"\n}", &struct {
			Number int    `alloy:"number,attr"`
			String string `alloy:"string,attr"`
		}{}, &struct {
			Number int    `alloy:"number,attr"`
			String string `alloy:"string,attr"`
		}{15, "Hello, world!"}, ""},
		{"attribute used as a block", "some_block {\n\tnumber {}\n}", &struct {
			Number int `alloy:"number,attr"`
		}{}, nil, `2:2: "number" must be an attribute, but is used as a block`},
		{"missing required attribute", "some_block {\n\tnumber = 15\n}", &struct {
			Number int    `alloy:"number,attr"`
			String string `alloy:"string,attr"`
		}{}, nil, `1:1: missing required attribute "string"`},
		{"optional attribute", "some_block {\n\tnumber = 15\n}", &struct {
			Number int    `alloy:"number,attr"`
			String string `alloy:"string,attr,optional"`
		}{}, &struct {
			Number int    `alloy:"number,attr"`
			String string `alloy:"string,attr,optional"`
		}{Number: 15}, ""},
		{"unknown attribute", "some_block {\n\tnumber  = 15\n\tinvalid = \"x\"\n}", &struct {
			Number int `alloy:"number,attr"`
		}{}, nil, `3:2: unrecognized attribute name "invalid"`},
		{"squashed attributes", "some_block {\n\touter_field_1 = \"value1\"\n\touter_field_2 = \"value2\"\n\tinner_field_1 = \"value3\"\n\tinner_field_2 = \"value4\"\n}", &struct {
			OuterField1 string `alloy:"outer_field_1,attr,optional"`
			Inner       inner  `alloy:",squash"`
			OuterField2 string `alloy:"outer_field_2,attr,optional"`
		}{}, &struct {
			OuterField1 string `alloy:"outer_field_1,attr,optional"`
			Inner       inner  `alloy:",squash"`
			OuterField2 string `alloy:"outer_field_2,attr,optional"`
		}{"value1", inner{"value3", "value4"}, "value2"}, ""},
		{"children blocks", "some_block {\n\tvalue = 10\n\tchild.block { attr = true }\n\tchild.block { attr = false }\n\tchild.block { attr = true }\n}", &struct {
			Value    int     `alloy:"value,attr"`
			Children []child `alloy:"child.block,block"`
		}{}, &struct {
			Value    int     `alloy:"value,attr"`
			Children []child `alloy:"child.block,block"`
		}{10, []child{{true}, {false}, {true}}}, ""},
		{"children blocks into an array", "some_block {\n\tvalue = 15\n\tchild.block { attr = true }\n\tchild.block { attr = false }\n\tchild.block { attr = true }\n}", &struct {
			Value    int      `alloy:"value,attr"`
			Children [3]child `alloy:"child.block,block"`
		}{}, &struct {
			Value    int      `alloy:"value,attr"`
			Children [3]child `alloy:"child.block,block"`
		}{15, [3]child{{true}, {false}, {true}}}, ""},
		{"block used as an attribute", "some_block {\n\tchild = 15\n}", &struct {
			Child child `alloy:"child,block"`
		}{}, nil, `2:2: "child" must be a block, but is used as an attribute`},
		{"missing required block", "some_block {\n\tvalue = 15\n}", &struct {
			Value int   `alloy:"value,attr"`
			Child child `alloy:"child.block,block"`
		}{}, nil, `1:1: missing required block "child.block"`},
		{"unknown block", "some_block {\n\tvalue = 15\n\n\tchild.block { attr = true }\n}", &struct {
			Value int `alloy:"value,attr"`
		}{}, nil, `4:2: unrecognized block name "child.block"`},
		{"squashed blocks", "some_block {\n\touter_block_1 { attr = true }\n\touter_block_2 { attr = false }\n\tinner_block_1 { attr = true }\n\tinner_block_2 { attr = false }\n}", &struct {
			Outer1 child       `alloy:"outer_block_1,block"`
			Inner  innerBlocks `alloy:",squash"`
			Outer2 child       `alloy:"outer_block_2,block"`
		}{}, &struct {
			Outer1 child       `alloy:"outer_block_1,block"`
			Inner  innerBlocks `alloy:",squash"`
			Outer2 child       `alloy:"outer_block_2,block"`
		}{child{true}, innerBlocks{child{true}, child{false}}, child{false}}, ""},
		{"label", `some_block "label_value_1" {}`, &struct {
			Label string `alloy:",label"`
		}{}, &struct {
			Label string `alloy:",label"`
		}{"label_value_1"}, ""},
		{"nested label required", "some_block {\n\tchild { value = 1 }\n}", &struct {
			Child struct {
				Label string `alloy:",label"`
				Value int    `alloy:"value,attr"`
			} `alloy:"child,block"`
		}{}, nil, `2:2: block "child" requires non-empty label`},
		{"nested label not supported", "some_block {\n\tchild \"x\" { attr = true }\n}", &struct {
			Child child `alloy:"child,block"`
		}{}, nil, `2:8: block "child" does not support specifying labels`},
		{"too many blocks for an array", "some_block {\n\tchild { attr = true }\n\tchild { attr = true }\n}", &struct {
			Children [1]child `alloy:"child,block"`
		}{}, nil, `3:2: block "child" may only be specified 1 times`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.ParseFile("", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			// Alloy evaluates the inner block; a file of one block is the
			// same here, decoding the block's body through the outer name.
			err = vm.New(f.Body[0]).Evaluate(nil, tt.into)
			if tt.want == nil {
				// The first diagnostic is Alloy's; shoal may report more.
				ds := diag.From(err)
				if len(ds) == 0 || ds[0].Error() != tt.err {
					t.Fatalf("got %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.into, tt.want) {
				t.Fatalf("got %+v, want %+v", tt.into, tt.want)
			}
		})
	}
}

// TestAlloyNestedPointers pins the pointer cases of vm_block_test.go.
func TestAlloyNestedPointers(t *testing.T) {
	type child struct {
		Attr bool `alloy:"attr,attr"`
	}
	var got struct {
		NumberA int                  `alloy:"number_a,attr"`
		NumberB *int                 `alloy:"number_b,attr"`
		NumberC **int                `alloy:"number_c,attr"`
		NumberD ***int               `alloy:"number_d,attr"`
		BlockA  child                `alloy:"block_a,block"`
		BlockB  *child               `alloy:"block_b,block"`
		BlockC  **child              `alloy:"block_c,block"`
		Pass    types.Secret         `alloy:"password,attr"`
		Opt     types.OptionalSecret `alloy:"optional_password,attr,optional"`
	}
	t.Setenv("SECRET", "my_password")
	src := "some_block {\n\tnumber_a = 15\n\tnumber_b = 20\n\tnumber_c = 25\n\tnumber_d = 30\n\tblock_a { attr = true }\n\tblock_b { attr = false }\n\tblock_c { attr = true }\n\tpassword = \"my_password\"\n\toptional_password = sys.env(\"SECRET\")\n}"
	if err := vm.New(parseBlock(t, src)).Evaluate(nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.NumberA != 15 || *got.NumberB != 20 || **got.NumberC != 25 || ***got.NumberD != 30 {
		t.Fatalf("numbers: %+v", got)
	}
	if !got.BlockA.Attr || got.BlockB.Attr || !(**got.BlockC).Attr {
		t.Fatalf("blocks: %+v", got)
	}
	if got.Pass != "my_password" || got.Opt != (types.OptionalSecret{Value: "my_password"}) {
		t.Fatalf("secrets: %+v", got)
	}
	if tr := vm.Traversals(parseBlock(t, src)); len(tr) != 0 {
		t.Fatalf("sys.env taken for a reference: %v", tr)
	}
}

// TestAlloyBodyIntoAny pins what Alloy's Evaluate does with an interface
// target: the attributes as a map.
func TestAlloyBodyIntoAny(t *testing.T) {
	f, err := parser.ParseFile("t.alloy", []byte("a = 1\nb = \"x\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := vm.New(f).Evaluate(nil, &got); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"a": int64(1), "b": "x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}
