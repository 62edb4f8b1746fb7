/* tagvirt run: replaced by the runtime (issue: guests that really run). */
#include "tagvirt_cli.h"

#include <stdio.h>

int tv_cmd_run(int argc, char **argv)
{
    fprintf(stderr, "tagvirt: error: 'run' is not available in this build yet\n");
    return -1;
}
