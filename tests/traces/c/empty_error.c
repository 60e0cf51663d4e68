// ERROR: 1:1: expected a classifier, but the input holds no C code
/* nothing but comments */
