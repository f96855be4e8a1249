# Writes the file IN as a C string constant `projector_openapi_json` into OUT.
file(READ ${IN} content)
string(REPLACE "\\" "\\\\" content "${content}")
string(REPLACE "\"" "\\\"" content "${content}")
string(REPLACE "\n" "\\n\"\n\"" content "${content}")
file(WRITE ${OUT} "/* Generated from api/openapi.json by api/embed.cmake. */\n"
                  "extern const char projector_openapi_json[];\n"
                  "const char projector_openapi_json[] =\n\"${content}\";\n")
