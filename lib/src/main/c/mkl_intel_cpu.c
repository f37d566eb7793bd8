/*
 * Loupe's MKL dispatch shim (io.loupe.tensor.MklDispatch says when and why it is loaded).
 *
 * MKL's dispatcher, linked into libtorch, asks mkl_serv_intel_cpu_true() whether the CPU is an Intel one before it
 * picks kernels by the CPU's features; on any other vendor it keeps to a narrower path (AVX2 on an AVX-512 AMD EPYC).
 * libtorch reaches that function through its PLT, so a definition in the process's global scope comes first: this one
 * says yes, and the dispatcher then chooses by the feature bits the CPU reports (cpuid), as on an Intel CPU.
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
