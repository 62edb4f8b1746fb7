/* tagvirt: offline commands that use the library directly (no daemon). */
#include "tagvirt-config.h"
#include "tagvirt_cli.h"

#include <stdio.h>
#include <string.h>

static const TvCliCommand commands[] = {
    { "domcapabilities", "the domain capabilities of an emulator", tv_cmd_domcapabilities },
    { "domxml-to-native", "print the QEMU command line of a domain XML file",
      tv_cmd_domxml_to_native },
    { "validate", "check a domain XML file against the schema, the emulator and the host",
      tv_cmd_validate },
    { "probe", "probe an emulator: CPU model x accelerator -> MTE fields", tv_cmd_probe },
    { "run", "start a domain in the foreground with its serial console", tv_cmd_run },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: tagvirt COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'tagvirt COMMAND --help' shows a command's options; 'man tagvirt' has more.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("tagvirt %s\n", TAGVIRT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1) < 0 ? 1 : 0;
    }
    fprintf(stderr, "tagvirt: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 1;
}
