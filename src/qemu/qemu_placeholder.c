/* removed once the first qemu source lands */
int tv_qemu_placeholder(void);
int tv_qemu_placeholder(void)
{
    return 0;
}
