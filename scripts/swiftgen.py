#!/usr/bin/python3
"""Generates the Swift value types for Protos/ and their mapping to protoc-c structs.

Reads a FileDescriptorSet (protoc --descriptor_set_out --include_imports) and prints
Sources/LogbookWire/Generated/Messages.swift. Run through scripts/generate.sh, never alone.

Every message becomes a `package struct` with one stored property per field (a oneof is an
optional enum with associated values), a memberwise initializer with proto3 defaults, and a
conformance to `CMessageConvertible` that copies to and from the protoc-c struct through the
generic helpers in Sources/LogbookWire/Internal. The C layout it relies on (protobuf-c 1.4):
  scalar            T x                       repeated: size_t n_x; T *x
  string            char *x                   repeated: size_t n_x; char **x
  bytes             ProtobufCBinaryData x     repeated: size_t n_x; ProtobufCBinaryData *x
  message           M *x (NULL when absent)   repeated: size_t n_x; M **x
  oneof o           O_case o_case; anonymous union of the members (case value = field number)
Maps and proto3 `optional` are not supported: the protos do not use them.
"""
import sys
from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto
SCALARS = {
    F.TYPE_UINT64: ("UInt64", "0"),
    F.TYPE_INT64: ("Int64", "0"),
    F.TYPE_UINT32: ("UInt32", "0"),
    F.TYPE_INT32: ("Int32", "0"),
    F.TYPE_BOOL: ("Bool", "false"),
    F.TYPE_STRING: ("String", '""'),
    F.TYPE_BYTES: ("[UInt8]", "[]"),
}
SWIFT_KEYWORDS = {"in", "is", "as", "default", "case", "switch", "for", "where", "while",
                  "repeat", "return", "func", "var", "let", "class", "struct", "enum",
                  "protocol", "extension", "import", "init", "self", "Self", "Type",
                  "operator", "internal", "public", "private", "static", "true", "false", "nil"}


def camel(name, upper=False):
    parts = name.split("_")
    out = []
    for i, p in enumerate(parts):
        p = p.lower() if name.isupper() or name.islower() else p
        if i == 0 and not upper:
            out.append(p[:1].lower() + p[1:])
        elif p in ("id", "ids") and i > 0:
            out.append(p.upper()[:2] + p[2:])
        else:
            out.append(p[:1].upper() + p[1:])
    return "".join(out)


def ident(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def snake(camel_name):
    """protoc-c's lower-case name for a CamelCase message: HelloReply -> hello_reply."""
    out = ""
    for i, ch in enumerate(camel_name):
        if ch.isupper() and i > 0:
            out += "_"
        out += ch.lower()
    return out


def short(type_name):
    return type_name.rsplit(".", 1)[-1]


class Gen:
    def __init__(self, fds):
        self.messages = []
        self.enums = []
        for f in fds.file:
            if f.package != "logbook.v1":
                continue
            self.messages += list(f.message_type)
            self.enums += list(f.enum_type)
        self.enum_names = {e.name for e in self.enums}
        self.lines = []

    def w(self, line=""):
        self.lines.append(line)

    def swift_type(self, f):
        if f.type == F.TYPE_MESSAGE:
            base = short(f.type_name)
        elif f.type == F.TYPE_ENUM:
            base = short(f.type_name)
        else:
            base = SCALARS[f.type][0]
        if f.label == F.LABEL_REPEATED:
            return f"[{base}]"
        return base

    def default(self, f):
        if f.label == F.LABEL_REPEATED:
            return "[]"
        if f.type == F.TYPE_MESSAGE:
            return "nil"
        if f.type == F.TYPE_ENUM:
            return f".{self.first_case(short(f.type_name))}"
        return SCALARS[f.type][1]

    def first_case(self, enum_name):
        e = next(e for e in self.enums if e.name == enum_name)
        return self.case_name(e, e.value[0].name)

    @staticmethod
    def case_name(e, value_name):
        prefix = snake(e.name).upper() + "_"
        name = value_name[len(prefix):] if value_name.startswith(prefix) else value_name
        return ident(camel(name.lower()))

    # --- decoding: an expression reading one value from C ---
    def decode_value(self, f, expr, where):
        if f.type == F.TYPE_MESSAGE:
            return f"try {short(f.type_name)}(cMessage: try required({expr}, \"{where}\"))"
        if f.type == F.TYPE_ENUM:
            return f"try {short(f.type_name)}(c: {expr}, field: \"{where}\")"
        if f.type == F.TYPE_STRING:
            return f"try decodeString({expr}, field: \"{where}\")"
        if f.type == F.TYPE_BYTES:
            return f"decodeBytes({expr})"
        if f.type == F.TYPE_BOOL:
            return f"({expr} != 0)"
        return expr

    # --- encoding: an expression producing the C value ---
    def encode_value(self, f, expr, where):
        if f.type == F.TYPE_MESSAGE:
            return f"try {expr}.cMessage(in: arena)"
        if f.type == F.TYPE_ENUM:
            return f"{expr}.c"
        if f.type == F.TYPE_STRING:
            return f"try arena.string({expr}, field: \"{where}\")"
        if f.type == F.TYPE_BYTES:
            return f"arena.bytes({expr})"
        if f.type == F.TYPE_BOOL:
            return f"({expr} ? 1 : 0)"
        return expr

    def c_element_type(self, f):
        return {
            F.TYPE_MESSAGE: f"UnsafeMutablePointer<Logbook__V1__{short(f.type_name)}>?",
            F.TYPE_ENUM: f"Logbook__V1__{short(f.type_name)}",
            F.TYPE_STRING: "UnsafeMutablePointer<CChar>?",
            F.TYPE_BYTES: "ProtobufCBinaryData",
            F.TYPE_BOOL: "protobuf_c_boolean",
        }.get(f.type, SCALARS.get(f.type, ("",))[0])

    def message(self, m):
        name = m.name
        ctype = f"Logbook__V1__{name}"
        oneofs = {i: o.name for i, o in enumerate(m.oneof_decl)}
        plain = [f for f in m.field if not f.HasField("oneof_index")]
        by_oneof = {i: [f for f in m.field if f.HasField("oneof_index") and f.oneof_index == i]
                    for i in oneofs}

        # The value type.
        self.w(f"package struct {name}: Sendable, Hashable {{")
        for i, oname in oneofs.items():
            self.w(f"    package enum {camel(oname, upper=True)}: Sendable, Hashable {{")
            for f in by_oneof[i]:
                self.w(f"        case {ident(camel(f.name))}({self.swift_type(f)})")
            self.w("    }")
            self.w()
        params = []
        for f in plain:
            self.w(f"    package var {ident(camel(f.name))}: {self.swift_type(f)}"
                   f"{'?' if f.type == F.TYPE_MESSAGE and f.label != F.LABEL_REPEATED else ''}")
            params.append((camel(f.name), self.swift_type(f) + ("?" if f.type == F.TYPE_MESSAGE and f.label != F.LABEL_REPEATED else ""), self.default(f)))
        for i, oname in oneofs.items():
            self.w(f"    package var {ident(camel(oname))}: {camel(oname, upper=True)}?")
            params.append((camel(oname), camel(oname, upper=True) + "?", "nil"))
        self.w()
        sig = ", ".join(f"{p}: {t} = {dflt}" for p, t, dflt in params)
        self.w(f"    package init({sig}) {{")
        for p, _, _ in params:
            self.w(f"        self.{ident(p)} = {ident(p)}")
        self.w("    }")
        self.w("}")
        self.w()

        # What each oneof member is called, for error messages.
        for i, oname in oneofs.items():
            self.w(f"extension {name}.{camel(oname, upper=True)} {{")
            self.w("    /// The member's message type, or its field name for a scalar, as the protos spell it.")
            self.w("    package var name: String {")
            self.w("        switch self {")
            for f in by_oneof[i]:
                label = short(f.type_name) if f.type == F.TYPE_MESSAGE else f.name
                self.w(f"        case .{ident(camel(f.name))}: \"{label}\"")
            self.w("        }")
            self.w("    }")
            self.w("}")
            self.w()

        # The mapping to and from C.
        self.w(f"extension {name}: CMessageConvertible {{")
        self.w(f"    init(cMessage pointer: UnsafePointer<{ctype}>) throws(WireError) {{")
        self.w("        let c = pointer.pointee" if m.field else "        _ = pointer")
        self.w("        self.init()")
        for f in plain:
            prop = ident(camel(f.name))
            where = f"{name}.{f.name}"
            if f.label == F.LABEL_REPEATED:
                elem = self.decode_value(f, "element", where)
                if f.type == F.TYPE_MESSAGE:
                    elem = f"try {short(f.type_name)}(cMessage: try required(element, \"{where}\"))"
                self.w(f"        self.{prop} = try decodeArray(c.{f.name}, count: c.n_{f.name}) {{ element throws(WireError) in {elem} }}")
            elif f.type == F.TYPE_MESSAGE:
                self.w(f"        if let p = c.{f.name} {{ self.{prop} = try {short(f.type_name)}(cMessage: p) }}")
            else:
                self.w(f"        self.{prop} = {self.decode_value(f, 'c.' + f.name, where)}")
        for i, oname in oneofs.items():
            self.w(f"        switch c.{oname}_case.rawValue {{")
            for f in by_oneof[i]:
                where = f"{name}.{f.name}"
                self.w(f"        case {f.number}: self.{ident(camel(oname))} = .{ident(camel(f.name))}({self.decode_value(f, 'c.' + f.name, where)})")
            self.w(f"        default: self.{ident(camel(oname))} = nil")
            self.w("        }")
        self.w("    }")
        self.w()
        self.w(f"    func cMessage(in arena: Arena) throws(WireError) -> UnsafeMutablePointer<{ctype}> {{")
        self.w(f"        let c = arena.make({ctype}.self)")
        self.w(f"        logbook__v1__{snake(name)}__init(c)")
        for f in plain:
            prop = ident(camel(f.name))
            where = f"{name}.{f.name}"
            if f.label == F.LABEL_REPEATED:
                elem = self.encode_value(f, "element", where)
                self.w(f"        c.pointee.n_{f.name} = self.{prop}.count")
                self.w(f"        c.pointee.{f.name} = try arena.array(self.{prop}, of: {self.c_element_type(f)}.self) {{ element throws(WireError) in {elem} }}")
            elif f.type == F.TYPE_MESSAGE:
                self.w(f"        if let value = self.{prop} {{ c.pointee.{f.name} = try value.cMessage(in: arena) }}")
            else:
                self.w(f"        c.pointee.{f.name} = {self.encode_value(f, 'self.' + prop, where)}")
        for i, oname in oneofs.items():
            self.w(f"        switch self.{ident(camel(oname))} {{")
            for f in by_oneof[i]:
                where = f"{name}.{f.name}"
                self.w(f"        case .{ident(camel(f.name))}(let value):")
                self.w(f"            c.pointee.{oname}_case = .init(rawValue: {f.number})")
                self.w(f"            c.pointee.{f.name} = {self.encode_value(f, 'value', where)}")
            self.w("        case nil: break")
            self.w("        }")
        self.w("        return c")
        self.w("    }")
        self.w("}")
        self.w()

    def enum(self, e):
        ctype = f"Logbook__V1__{e.name}"
        self.w(f"package enum {e.name}: Int32, Sendable, Hashable, CaseIterable {{")
        for v in e.value:
            self.w(f"    case {self.case_name(e, v.name)} = {v.number}")
        self.w("}")
        self.w()
        self.w(f"extension {e.name} {{")
        self.w(f"    init(c: {ctype}, field: StaticString) throws(WireError) {{")
        self.w(f"        guard let value = {e.name}(rawValue: Int32(truncatingIfNeeded: c.rawValue)) else {{")
        self.w(f"            throw WireError.unknownEnumValue(Int64(c.rawValue), field: field)")
        self.w("        }")
        self.w("        self = value")
        self.w("    }")
        self.w()
        self.w(f"    var c: {ctype} {{ {ctype}(rawValue: numericCast(self.rawValue)) }}")
        self.w("}")
        self.w()

    def run(self):
        self.w("// Generated by scripts/swiftgen.py from Protos/logbook/v1. Do not edit.")
        self.w("// swiftlint:disable all")
        self.w()
        self.w("internal import CLogbookProto")
        self.w("internal import CProtobufC")
        self.w()
        for e in self.enums:
            self.enum(e)
        for m in self.messages:
            self.message(m)
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def main():
    fds = d.FileDescriptorSet()
    with open(sys.argv[1], "rb") as f:
        fds.ParseFromString(f.read())
    sys.stdout.write(Gen(fds).run())


if __name__ == "__main__":
    main()
