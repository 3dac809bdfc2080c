// Namespaces nearly every test file uses.
global using VaeLab.Kernels;
global using VaeLab.Optimization;
global using VaeLab.Runtime;
global using VaeLab.Training.Steps;
