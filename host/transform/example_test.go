package transform_test

import (
	"fmt"

	"github.com/tidemark/tidemark/host/record"
	"github.com/tidemark/tidemark/host/transform"
)

func ExampleCompile() {
	schema := record.MustSchema(
		record.Field{Name: "src_ip", Kind: record.String},
		record.Field{Name: "ip_protocol", Kind: record.Number},
		record.Field{Name: "packet_size", Kind: record.Number},
		record.Field{Name: "sampling_rate", Kind: record.Number},
	).Clone()
	prog, err := transform.Compile(schema,
		"ip_protocol == 6",
		[]string{"bytes = packet_size * sampling_rate", "src_net = subnet(src_ip, 24)"},
		transform.Env{})
	if err != nil {
		fmt.Println(err)
		return
	}
	row := record.NewRow(schema)
	row.Str[0], row.Num[1], row.Num[2], row.Num[3] = []byte("10.1.2.3"), 6, 1500, 512
	keep, rerr := prog.Run(row)
	bytesSlot, _, _ := schema.Lookup("bytes")
	netSlot, _, _ := schema.Lookup("src_net")
	fmt.Println(keep, rerr == nil, row.Num[bytesSlot], string(row.Str[netSlot]))

	_, err = transform.Compile(schema.Clone(), "ip_protocl == 6", []string{"x = summ(1, 2)"}, transform.Env{})
	fmt.Println(err)
	// Output:
	// true true 768000 10.1.2.0/24
	// where: offset 0: unknown field "ip_protocl" (did you mean "ip_protocol"?)
	// fields[0]: offset 4: unknown function "summ" (did you mean "sum"?)
}
