#include <cstdio>
int main() { std::puts("lakestream"); return 0; }
