using VaeLab.Data;
using VaeLab.Derivation;
using VaeLab.Experiments;
using VaeLab.Plotting;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Tests.Plotting;

/// <summary>
/// Reports are shared with people who open them in a browser: text that came from the user (a data folder's name, a check's
/// wording) is shown as text, never run as markup. The notebook report is covered by <c>KernelProtocolTests</c>.
/// </summary>
public class MarkupInjectionTests
{
    const string Payload = "<img src=x onerror=alert(1)>", Escaped = "&lt;img src=x onerror=alert(1)&gt;";

    [Fact]
    public void ADataFolderNamedWithMarkupComesOutEscapedInTheSweepReport()
    {
        using var folder = new TempDirectory();
        string data = folder.File(Payload);
        Directory.CreateDirectory(data);
        using (Dataset all = FashionMnist.LoadEmbeddedImages())
        {
            byte[] Images(int from, int count) => all.Examples.slice(0, from, from + count, 1).mul(255).round().to_type(ScalarType.Byte).data<byte>().ToArray();
            byte[] Labels(int from, int count) => all.Labels!.slice(0, from, from + count, 1).to_type(ScalarType.Byte).data<byte>().ToArray();
            IdxWriter.Write(Path.Combine(data, "train-images-idx3-ubyte"), [300, 28, 28], Images(0, 300));
            IdxWriter.Write(Path.Combine(data, "train-labels-idx1-ubyte"), [300], Labels(0, 300));
            IdxWriter.Write(Path.Combine(data, "t10k-images-idx3-ubyte"), [50, 28, 28], Images(300, 50));
            IdxWriter.Write(Path.Combine(data, "t10k-labels-idx1-ubyte"), [50], Labels(300, 50));
        }
        SweepSpec spec = new([2], [1.0], [0], Epochs: 1, BatchSize: 100, HiddenSizes: [16], ImportanceSamples: 2, DataDirectory: data);
        var store = new ResultStore(folder.File("store"));
        var runs = SweepRunner.Run(spec, store);
        Assert.Contains(Payload, runs[0].DataDescription);
        using DataChoice choice = SweepRunner.LoadData(spec);
        string html = SweepReport.Build(spec, runs, RuntimeInfo.Capture(), null, store, choice.Test).ToString();
        Assert.DoesNotContain(Payload, html);
        Assert.Contains(Escaped, html);
    }

    [Fact]
    public void MarkupInACheckRowComesOutEscapedOnTheDerivationPage()
    {
        var report = new DerivationReport([new DerivationRow(Payload, Payload, 1, 1, 0, 1e-9, Payload, true)], TimeSpan.FromSeconds(1));
        string html = DerivationPage.Build(report).ToString();
        Assert.DoesNotContain(Payload, html);
        Assert.Contains(Escaped, html);
        Assert.DoesNotContain(Payload, report.ToHtml());
    }
}
