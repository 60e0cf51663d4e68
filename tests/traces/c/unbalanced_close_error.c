// ERROR: 5:1: expected a statement, got '}' (unbalanced braces)
uint8_t channel = CH_MAIN;
if (mis->from_src_file) {
    channel = CH_MULTIFD; }
}
