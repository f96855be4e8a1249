/* `projector broker`: librdkafka's mock Kafka cluster, for development, demos and tests. */
#ifndef PROJECTOR_BROKER_H
#define PROJECTOR_BROKER_H

/* Runs the command with its arguments (after "broker"). Blocks until SIGINT/SIGTERM. Returns an
 * exit code. */
int broker_main(int argc, char **argv);

#endif
