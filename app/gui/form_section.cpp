#include "form_section.hpp"

#include <QFormLayout>
#include <QFrame>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace satlink::gui::form {

void makeCompact(QFormLayout* form) {
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->setRowWrapPolicy(QFormLayout::DontWrapRows);
  form->setLabelAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  form->setHorizontalSpacing(8);
  form->setVerticalSpacing(3);
}

FormSection::FormSection(const QString& title, std::string path, int depth, QWidget* parent)
    : QWidget(parent), path_(std::move(path)), depth_(depth), title_(title) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, depth == 0 ? 6 : 0, 0, 0);
  outer->setSpacing(depth == 0 ? 2 : 0);
  if (depth == 0) {
    auto* rule = new QFrame(this);
    rule->setFrameShape(QFrame::HLine);
    rule->setFrameShadow(QFrame::Sunken);
    outer->addWidget(rule);
  }

  header_ = new QToolButton(this);
  header_->setObjectName(QString::fromStdString(path_) + QStringLiteral("#section"));
  header_->setAutoRaise(true);
  header_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  header_->setText(title_);
  if (depth == 0) {
    QFont f = header_->font();
    f.setBold(true);
    header_->setFont(f);
  }
  summary_ = new QLabel(this);
  summary_->setTextFormat(Qt::PlainText);
  summary_->setForegroundRole(QPalette::PlaceholderText);
  QFont small = summary_->font();
  small.setPointSizeF(small.pointSizeF() * 0.9);
  summary_->setFont(small);
  // Never wider than the panel: a long summary is cut (the tooltip has it whole).
  summary_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  summary_->hide();
  outer->addWidget(header_, 0, Qt::AlignLeft);
  // On its own line under the title: beside it, a narrow panel would cut it.
  summary_->setContentsMargins(depth == 0 ? 22 : 34, 0, 0, 0);
  outer->addWidget(summary_);

  body_ = new QWidget(this);
  form_ = new QFormLayout(body_);
  makeCompact(form_);
  // Subgroups are indented under their arrow so the nesting reads at a glance.
  form_->setContentsMargins(depth == 0 ? 6 : 18, 2, 0, 4);
  outer->addWidget(body_);

  // Not a checkable button: a checked tool button is drawn pressed, which reads as a control
  // rather than a heading. The arrow shows the state; "expanded" carries it for tests.
  connect(header_, &QToolButton::clicked, this, [this] { setExpanded(!isExpanded()); });
  setExpanded(depth == 0);
}

bool FormSection::isExpanded() const {
  return header_->property("expanded").toBool();
}

void FormSection::setExpanded(bool expanded) {
  header_->setProperty("expanded", expanded);
  header_->setArrowType(expanded ? Qt::DownArrow : Qt::RightArrow);
  body_->setVisible(expanded);
}

void FormSection::setSummary(const QString& summary) {
  summary_->setText(summary);
  summary_->setToolTip(summary);
  summary_->setVisible(!summary.isEmpty());
}

void FormSection::setState(bool hasValues, bool hasErrors) {
  header_->setText(hasValues ? title_ + QStringLiteral("  \u2022") : title_);
  QPalette pal = header_->palette();
  pal.setColor(QPalette::ButtonText,
               hasErrors ? QColor(0xc6, 0x28, 0x28) : palette().color(QPalette::ButtonText));
  header_->setPalette(pal);
  header_->setProperty("invalid", hasErrors);
}

}  // namespace satlink::gui::form
