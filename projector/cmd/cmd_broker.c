/* `projector broker`: hands its arguments to the broker, which reads them itself. */
#include "cmd_broker.h"

#include "broker.h"

int cmd_broker_main(const cmd_args_command_t *c, int argc, char **argv)
{
    (void)c;
    return broker_main(argc, argv);
}
