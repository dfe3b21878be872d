// true: exits with status 0, whatever its arguments.
int main() { return 0; }
