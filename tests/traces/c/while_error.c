// ERROR: 3:5: unsupported construct 'while'
uint8_t channel = CH_MAIN;
    while (!mis->from_src_file) {
        channel = CH_MULTIFD;
    }
