"""Why a network answered as it did, and what each of its layers makes of the data.

Headless and free of Qt: `netwright explain` and the window's Inside tab and
Explain panel call the same functions. The package itself imports nothing
heavy, so the window can name its modules before torch is loaded:

- `subject`: the trained network with its validation samples, loaded the way
  training saw them (scaled, reshaped);
- `methods`: one sample's attributions with Captum (saliency, integrated
  gradients, occlusion, Grad-CAM) and its attention maps (`attention`);
- `layers` and `projection`: each layer's representation of a batch, projected
  to 2-D or 3-D so that points keep their place from one look to the next;
- `neurons`: each hidden unit's response over the input plane of a 2-D network;
- `picture`: the PNG `netwright explain --out` writes.
"""
