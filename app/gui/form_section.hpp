// A collapsible group of the scenario form: a header (arrow and title, then an optional one-line
// summary) over a form layout. The form is long and the panel narrow, so nested groups start
// collapsed and open themselves when they hold values or errors.
#pragma once

#include <QWidget>
#include <string>

class QFormLayout;
class QLabel;
class QToolButton;

namespace satlink::gui::form {

class FormSection : public QWidget {
 public:
  // depth 0: a top-level section (bold header, a rule above); deeper: an indented subgroup.
  FormSection(const QString& title, std::string path, int depth, QWidget* parent = nullptr);

  QFormLayout* form() const { return form_; }
  QToolButton* header() const { return header_; }
  const std::string& path() const { return path_; }
  int depth() const { return depth_; }

  bool isExpanded() const;
  void setExpanded(bool expanded);
  // A short line under the title (a link's RTT and rates), for a reader of the collapsed form.
  void setSummary(const QString& summary);
  // The title marks a section that holds values the file sets ("•") or errors (red).
  void setState(bool hasValues, bool hasErrors);

 private:
  std::string path_;
  int depth_;
  QString title_;
  QToolButton* header_;
  QLabel* summary_;
  QWidget* body_;
  QFormLayout* form_;
};

// The compact form layout every section and subgroup uses (the panel is ~420 px wide).
void makeCompact(QFormLayout* form);

}  // namespace satlink::gui::form
