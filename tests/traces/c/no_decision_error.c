// ERROR: 4:1: expected an assignment to the channel variable
if (mis->from_src_file) {
    channel = CH_MULTIFD;
}
