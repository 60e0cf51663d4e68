// ERROR: 7:1: expected '}' to close the '{' at 3:26 (unbalanced braces), got end of input
uint8_t channel = CH_MAIN;
if (!mis->from_src_file) {
    if (migrate_multifd()) {
        channel = CH_MULTIFD;
}
