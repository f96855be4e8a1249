/* The versions of projector and of the libraries it runs with, for --version and /metrics. */
#include "version.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>

void version_components(version_component_t out[VERSION_COMPONENTS])
{
    int pq = PQlibVersion();
    out[0].name = "projector";
    snprintf(out[0].version, sizeof(out[0].version), "%s", PROJECTOR_VERSION);
    out[1].name = "librdkafka";
    snprintf(out[1].version, sizeof(out[1].version), "%s", rd_kafka_version_str());
    out[2].name = "libpq";
    snprintf(out[2].version, sizeof(out[2].version), "%d.%d", pq / 10000, pq % 10000);
    out[3].name = "jansson";
    snprintf(out[3].version, sizeof(out[3].version), "%s", jansson_version_str());
    out[4].name = "libcurl";
    snprintf(out[4].version, sizeof(out[4].version), "%s",
             curl_version_info(CURLVERSION_NOW)->version);
    out[5].name = "libevent";
    snprintf(out[5].version, sizeof(out[5].version), "%s", event_get_version());
}
