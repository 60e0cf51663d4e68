// ERROR: 5:19: unsupported construct 'channel_magic == QEMU_VM_FILE_MAGIC: be32 value against a host-order constant'
uint8_t channel = CH_MULTIFD;
uint32_t channel_magic = 0;
ret = migration_channel_read_peek(ioc, (void *)&channel_magic, sizeof(channel_magic), errp);
if (channel_magic == QEMU_VM_FILE_MAGIC) { channel = CH_MAIN; }
