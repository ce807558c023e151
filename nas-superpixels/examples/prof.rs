#[path = "../tests/support/mod.rs"]
mod support;
fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let img = support::load_rgb(&support::shared_dir().join("images/motorcycle.png"));
    let t = std::time::Instant::now();
    for _ in 0..10 {
        if which == "slic" {
            let _ = nas_superpixels::slic(img.view(), &Default::default());
        } else {
            let _ = nas_superpixels::felzenszwalb(img.view(), &Default::default());
        }
    }
    println!("{which}: {:.1} ms/call", t.elapsed().as_secs_f64() * 100.0);
}
