using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A small convolutional encoder for 1×28×28 images: two stride-2 4×4 convolutions (32 and 64 channels,
/// 28 → 14 → 7), a 256-unit ReLU layer, then a linear head giving [μ, log σ²].
/// </summary>
public sealed class ConvEncoder : GaussianEncoder
{
    readonly Sequential net;

    /// <summary>Creates the encoder for single-channel 28×28 images.</summary>
    public ConvEncoder(long latentDimensions) : base(nameof(ConvEncoder), latentDimensions)
    {
        net = nn.Sequential(
            ("conv0", nn.Conv2d(1, 32, 4, stride: 2, padding: 1)),
            ("relu0", nn.ReLU()),
            ("conv1", nn.Conv2d(32, 64, 4, stride: 2, padding: 1)),
            ("relu1", nn.ReLU()),
            ("flatten", nn.Flatten()),
            ("linear", nn.Linear(64 * 7 * 7, 256)),
            ("relu2", nn.ReLU()),
            ("head", nn.Linear(256, 2 * latentDimensions)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override string Signature => $"conv-encoder(1x28x28-32-64-256-{LatentDimensions})";

    /// <inheritdoc />
    public override (Tensor Mean, Tensor LogVariance) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor output = net.forward(x.view(-1, 1, 28, 28));
        Tensor[] parts = output.chunk(2, 1);
        return (parts[0].MoveToOuterDisposeScope(), parts[1].MoveToOuterDisposeScope());
    }
}
