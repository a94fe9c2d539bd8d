# Writes the OpenAPI document into a C++ source as a raw string literal (run at build time).
file(READ "${INPUT}" CONTENT)
file(WRITE "${OUTPUT}.tmp" "#include \"api/api.h\"\n\nnamespace weft::api {\n\nconst std::string& OpenApiDocument() {\n    static const std::string kDoc = R\"WEFT_OPENAPI(${CONTENT})WEFT_OPENAPI\";\n    return kDoc;\n}\n\n}  // namespace weft::api\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
