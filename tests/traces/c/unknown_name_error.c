// ERROR: 3:46: unsupported construct '"migration-rdma-incoming"'
uint8_t channel = CH_MAIN;
if (mis->from_src_file && !strcmp(ioc->name, "migration-rdma-incoming")) {
    channel = CH_MULTIFD;
}
