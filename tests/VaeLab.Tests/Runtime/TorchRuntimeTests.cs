using VaeLab.Runtime;

namespace VaeLab.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchLoadsAndComputesAKnownMatrixProduct()
    {
        using var a = tensor(new double[] { 1, 2, 3, 4 }, new long[] { 2, 2 });
        using var b = tensor(new double[] { 5, 6, 7, 8 }, new long[] { 2, 2 });
        using var product = a.matmul(b);
        Assert.Equal(new double[] { 19, 22, 43, 50 }, product.data<double>().ToArray());
        using var total = product.sum();
        Assert.Equal(134.0, total.item<double>());
    }

    [Fact]
    public void InitializeSetsThreadsAndSeedSoDrawsRepeat()
    {
        RuntimeInfo info = TorchRuntime.Initialize(seed: 42, threads: 1);
        Assert.Equal(1, info.Threads);
        using var first = randn(5);
        TorchRuntime.Initialize(seed: 42, threads: 1);
        using var second = randn(5);
        Assert.True(TensorAssert.Identical(first, second));
        TorchRuntime.Initialize(seed: 0, threads: 0);
        Assert.Equal(Environment.ProcessorCount, get_num_threads());
    }

    [Fact]
    public void RuntimeInfoReportsVersionsAndNativesBesideTorchSharp()
    {
        RuntimeInfo info = RuntimeInfo.Capture();
        Assert.Equal("0.107.0", info.TorchSharpVersion);
        Assert.Equal("2.10.0", info.LibTorchVersion);
        Assert.Equal("cpu", info.Backend);
        Assert.False(info.CudaAvailable);
        if (OperatingSystem.IsLinux())
        {
            // The natives must come from the build output, flat next to TorchSharp.dll (the patched copies),
            // not from a copy TorchSharp makes out of the NuGet cache.
            string glue = Assert.Single(info.NativeLibraries, p => Path.GetFileName(p) == "libLibTorchSharp.so");
            Assert.Equal(info.ManagedDirectory, Path.GetDirectoryName(glue));
            Assert.Contains(info.NativeLibraries, p => Path.GetFileName(p) == "libtorch_cpu.so");
        }
    }

    [Fact]
    public void NegativeThreadCountIsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.Initialize(threads: -1));
        Assert.Equal("threads", error.ParamName);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    [InlineData("auto")]
    public void CpuAndAutoResolveToTheCpuHere(string option)
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice(option).type);
    }

    [Theory]
    [InlineData("cuda", "CUDA is not available")]
    [InlineData("cuda:1", "CUDA is not available")]
    [InlineData("cuda:x", "expected 'cuda:N'")]
    [InlineData("tpu", "is not known")]
    public void UnavailableOrUnknownDevicesAreRefusedByName(string option, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice(option));
        Assert.Contains($"'{option}'", error.Message);
        Assert.Contains(expected, error.Message);
    }
}
