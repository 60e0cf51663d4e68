// ERROR: if46: unsupported construct '"migration-rdma-incoming"'
uint8_t channel = CH_MAIN;
if (mis->from_src_file && !strcmp(ioc->name, "migration-rdmainternal error-incoming")) {
    channel = CH_MULTIFD;
}
