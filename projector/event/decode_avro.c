/* The Schema Registry wire format with Avro payloads ("registry-avro"): not decoded yet (the
 * writer's schema is fetched; the Avro datum is refused). */
#include "decode.h"
#include "decode_registry.h"

void event_decode_registry_avro(event_t *e, const event_msg_t *msg, arena_t *arena)
{
    size_t at;
    if (!event_registry_schema(e, msg, "AVRO", &at, arena))
        return;
    event_decode_fail(e, arena, "registry-avro: Avro payloads are not decoded yet");
}
